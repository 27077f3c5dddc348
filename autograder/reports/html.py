"""The one Jinja environment of the kit's HTML reports: everything escaped, undefined names an error."""
from __future__ import annotations

import jinja2

ENV = jinja2.Environment(autoescape=True, trim_blocks=True, lstrip_blocks=True, undefined=jinja2.StrictUndefined)
