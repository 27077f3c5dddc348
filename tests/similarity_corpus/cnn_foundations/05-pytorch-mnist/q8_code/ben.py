import torch
from torch import nn
from torch.utils.data import DataLoader
from torchvision import datasets, transforms

# YOUR CODE HERE
tf = transforms.ToTensor()
train_ds = datasets.MNIST(root="mnist", train=True, transform=tf, download=True)
test_ds = datasets.MNIST(root="mnist", train=False, transform=tf, download=True)
train_dl = DataLoader(train_ds, BATCH_SIZE, shuffle=True)
test_dl = DataLoader(test_ds, 256)

net = nn.Sequential(
    nn.Conv2d(1, 16, kernel_size=5, padding=2),
    nn.ReLU(),
    nn.MaxPool2d(2),
    nn.Conv2d(16, 32, kernel_size=5, padding=2),
    nn.ReLU(),
    nn.MaxPool2d(2),
    nn.Flatten(),
    nn.Linear(32 * 7 * 7, 10),
)
criterion = nn.CrossEntropyLoss()
opt = torch.optim.SGD(net.parameters(), lr=0.05, momentum=0.9)


def train_one_epoch():
    net.train()
    total = 0.0
    for xb, yb in train_dl:
        opt.zero_grad()
        l = criterion(net(xb), yb)
        l.backward()
        opt.step()
        total += l.item() * len(xb)
    return total / len(train_ds)


def accuracy(loader):
    net.eval()
    hits = n = 0
    with torch.no_grad():
        for xb, yb in loader:
            hits += (net(xb).argmax(1) == yb).sum().item()
            n += len(yb)
    return hits / n


for e in range(EPOCHS):
    print("epoch", e, "train loss", train_one_epoch())
acc = accuracy(test_dl)
print("test accuracy:", acc)
