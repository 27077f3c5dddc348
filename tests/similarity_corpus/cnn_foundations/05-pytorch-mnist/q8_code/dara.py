import torch
from torch import nn
from torch.utils.data import DataLoader
from torchvision import datasets, transforms

# YOUR CODE HERE
to_tensor = transforms.ToTensor()
mnist_train = datasets.MNIST("data", train=True, download=True, transform=to_tensor)
mnist_test = datasets.MNIST("data", train=False, download=True, transform=to_tensor)
train_loader = DataLoader(mnist_train, batch_size=BATCH_SIZE, shuffle=True)
test_loader = DataLoader(mnist_test, batch_size=500, shuffle=False)


class ConvNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv_a = nn.Conv2d(1, 8, 3, padding=1)
        self.conv_b = nn.Conv2d(8, 16, 3, padding=1)
        self.pool = nn.MaxPool2d(2, 2)
        self.head = nn.Linear(16 * 7 * 7, 64)
        self.out = nn.Linear(64, 10)
        self.act = nn.ReLU()

    def forward(self, x):
        x = self.pool(self.act(self.conv_a(x)))
        x = self.pool(self.act(self.conv_b(x)))
        x = x.view(x.size(0), -1)
        x = self.act(self.head(x))
        return self.out(x)


model = ConvNet()
loss_function = nn.CrossEntropyLoss()
optimizer = torch.optim.Adam(model.parameters(), lr=0.002)
history = []

for epoch in range(EPOCHS):
    model.train()
    epoch_loss = 0.0
    for inputs, targets in train_loader:
        optimizer.zero_grad()
        outputs = model(inputs)
        loss = loss_function(outputs, targets)
        loss.backward()
        optimizer.step()
        epoch_loss += loss.item()
    history.append(epoch_loss / len(train_loader))
    print("epoch %d: loss %.4f" % (epoch + 1, history[-1]))

model.eval()
correct = 0
total = 0
with torch.no_grad():
    for inputs, targets in test_loader:
        _, predicted = torch.max(model(inputs), 1)
        total += targets.size(0)
        correct += (predicted == targets).sum().item()
accuracy = correct / total
print("Accuracy of the network on the test images: %.2f %%" % (100 * accuracy))
