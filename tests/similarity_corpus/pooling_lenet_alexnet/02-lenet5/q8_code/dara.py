import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.utils.data import DataLoader
from torchvision import datasets, transforms

# 28x28 digits, padding=2 in the first conv keeps the classic shapes
data_tf = transforms.Compose([transforms.ToTensor(), transforms.Normalize((0.1307,), (0.3081,))])
train_loader = DataLoader(datasets.MNIST("data", True, data_tf, download=True), batch_size=BATCH_SIZE,
                          shuffle=True)
test_loader = DataLoader(datasets.MNIST("data", False, data_tf, download=True), batch_size=BATCH_SIZE)

model = nn.Sequential(
    nn.Conv2d(1, 6, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
    nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2),
    nn.Flatten(),
    nn.Linear(400, 120), nn.ReLU(),
    nn.Linear(120, 84), nn.ReLU(),
    nn.Linear(84, 10),
)
print(model)
print("trainable parameters:", sum(w.numel() for w in model.parameters() if w.requires_grad))

sgd = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9, nesterov=True)
for epoch in range(EPOCHS):
    model.train()
    seen, total_loss = 0, 0.0
    for x, y in train_loader:
        sgd.zero_grad()
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        sgd.step()
        seen += len(y)
        total_loss += loss.item() * len(y)
    print(f"epoch {epoch}: {total_loss / seen:.3f}")

model.eval()
hits = 0
n = 0
with torch.no_grad():
    for x, y in test_loader:
        hits += int((model(x).argmax(dim=1) == y).sum())
        n += len(y)
print("test accuracy: %.4f" % (hits / n))
