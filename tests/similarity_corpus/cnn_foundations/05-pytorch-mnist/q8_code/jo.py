import torch
from torch import nn
from torch.utils.data import DataLoader
from torchvision import datasets, transforms


class DigitNet(nn.Module):
    """A small CNN for 28x28 digits."""

    def __init__(self):
        super().__init__()
        self.relu = nn.ReLU()
        self.down = nn.MaxPool2d(2, 2)   # halves height and width
        self.first = nn.Conv2d(1, 8, 3, padding=1)
        self.second = nn.Conv2d(8, 16, 3, padding=1)
        self.hidden = nn.Linear(16 * 7 * 7, 64)
        self.final = nn.Linear(64, 10)

    def forward(self, img):
        img = self.down(self.relu(self.first(img)))
        img = self.down(self.relu(self.second(img)))
        img = img.view(img.size(0), -1)   # (N, 784)
        img = self.relu(self.hidden(img))
        return self.final(img)


# MNIST as tensors
trans = transforms.ToTensor()
test_set = datasets.MNIST("data", train=False, download=True, transform=trans)
train_set = datasets.MNIST("data", train=True, download=True, transform=trans)
test_dl = DataLoader(test_set, shuffle=False, batch_size=500)
train_dl = DataLoader(train_set, shuffle=True, batch_size=BATCH_SIZE)

cnn = DigitNet()
curve = []
adam = torch.optim.Adam(cnn.parameters(), lr=0.002)
ce = nn.CrossEntropyLoss()

# train
for i in range(EPOCHS):
    total_loss = 0.0
    cnn.train()
    for batch, labels in train_dl:
        adam.zero_grad()
        scores = cnn(batch)
        loss = ce(scores, labels)
        loss.backward()
        adam.step()
        total_loss += loss.item()
    curve.append(total_loss / len(train_dl))
    print("epoch %d: loss %.4f" % (i + 1, curve[-1]))

# test
cnn.eval()
n = 0
hits = 0
with torch.no_grad():
    for batch, labels in test_dl:
        _, guess = torch.max(cnn(batch), 1)
        hits += (guess == labels).sum().item()
        n += labels.size(0)
test_accuracy = hits / n
print("Accuracy of the network on the test images: %.2f %%" % (100 * test_accuracy))
