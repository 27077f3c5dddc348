import torch
from torch import nn
from torch.utils.data import DataLoader
from torchvision import datasets, transforms

# pad the 28x28 digits to the 32x32 of the paper
transform = transforms.Compose([transforms.Pad(2), transforms.ToTensor()])
train_set = datasets.MNIST("data", train=True, download=True, transform=transform)
test_set = datasets.MNIST("data", train=False, download=True, transform=transform)
train_loader = DataLoader(train_set, batch_size=BATCH_SIZE, shuffle=True)
test_loader = DataLoader(test_set, batch_size=1000)


class LeNet5(nn.Module):
    """LeNet-5 as in LeCun et al. (1998): tanh and average pooling."""

    def __init__(self):
        super().__init__()
        self.c1 = nn.Conv2d(1, 6, kernel_size=5)        # 32x32x1 -> 28x28x6
        self.s2 = nn.AvgPool2d(2, stride=2)             # -> 14x14x6
        self.c3 = nn.Conv2d(6, 16, kernel_size=5)       # -> 10x10x16
        self.s4 = nn.AvgPool2d(2, stride=2)             # -> 5x5x16
        self.c5 = nn.Linear(16 * 5 * 5, 120)
        self.f6 = nn.Linear(120, 84)
        self.output = nn.Linear(84, 10)

    def forward(self, x):
        x = self.s2(torch.tanh(self.c1(x)))
        x = self.s4(torch.tanh(self.c3(x)))
        x = torch.flatten(x, 1)   # keep the batch dimension
        x = torch.tanh(self.c5(x))
        x = torch.tanh(self.f6(x))
        return self.output(x)   # raw logits: CrossEntropyLoss applies the softmax


model = LeNet5()
n_params = sum(p.numel() for p in model.parameters())
print("LeNet-5 parameters:", n_params)   # 61,706
optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
criterion = nn.CrossEntropyLoss()

# training
for epoch in range(EPOCHS):
    model.train()
    for images, labels in train_loader:
        optimizer.zero_grad()
        loss = criterion(model(images), labels)
        loss.backward()
        optimizer.step()
    print(f"epoch {epoch + 1} loss {loss.item():.4f}")

# evaluation on the test set
model.eval()
correct = 0
with torch.no_grad():
    for images, labels in test_loader:
        correct += (model(images).argmax(1) == labels).sum().item()
test_accuracy = correct / len(test_set)
print(f"test accuracy {test_accuracy:.4f}")
