"""Reference solutions used by the checks' tests and as notebook solution content."""
