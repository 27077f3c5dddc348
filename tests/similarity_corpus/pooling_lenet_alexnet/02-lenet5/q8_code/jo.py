import torch
from torch import nn
from torch.utils.data import DataLoader
from torchvision import datasets, transforms


class Net(nn.Module):
    """The classic LeNet-5."""

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 6, kernel_size=5)
        self.conv2 = nn.Conv2d(6, 16, kernel_size=5)
        self.lin1 = nn.Linear(16 * 5 * 5, 120)
        self.lin2 = nn.Linear(120, 84)
        self.lin3 = nn.Linear(84, 10)
        # subsampling layers
        self.sub1 = nn.AvgPool2d(2, stride=2)
        self.sub2 = nn.AvgPool2d(2, stride=2)

    def forward(self, inp):
        inp = self.sub1(torch.tanh(self.conv1(inp)))
        inp = self.sub2(torch.tanh(self.conv2(inp)))
        inp = torch.flatten(inp, 1)
        inp = torch.tanh(self.lin1(inp))
        inp = torch.tanh(self.lin2(inp))
        return self.lin3(inp)   # 10 class scores


# data: MNIST padded to 32x32
tfm = transforms.Compose([transforms.Pad(2), transforms.ToTensor()])
testing = datasets.MNIST("data", train=False, download=True, transform=tfm)
training = datasets.MNIST("data", train=True, download=True, transform=tfm)
testing_loader = DataLoader(testing, batch_size=1000)
training_loader = DataLoader(training, shuffle=True, batch_size=BATCH_SIZE)

lenet = Net()
loss_func = nn.CrossEntropyLoss()
adam = torch.optim.Adam(lenet.parameters(), lr=1e-3)
total_params = sum(q.numel() for q in lenet.parameters())
print("LeNet-5 parameters:", total_params)

for e in range(EPOCHS):
    lenet.train()
    for batch, target in training_loader:
        adam.zero_grad()
        err = loss_func(lenet(batch), target)
        err.backward()
        adam.step()
    print(f"epoch {e + 1} loss {err.item():.4f}")

lenet.eval()
right = 0
with torch.no_grad():
    for batch, target in testing_loader:
        right += (lenet(batch).argmax(1) == target).sum().item()
test_accuracy = right / len(testing)
print(f"test accuracy {test_accuracy:.4f}")
