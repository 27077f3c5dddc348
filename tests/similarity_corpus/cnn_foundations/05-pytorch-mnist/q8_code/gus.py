import torch
from torch import nn
from torch.utils.data import DataLoader
from torchvision import datasets, transforms

# YOUR CODE HERE
tt = transforms.ToTensor()
ds_train = datasets.MNIST("data", train=True, download=True, transform=tt)
ds_test = datasets.MNIST("data", train=False, download=True, transform=tt)
loader_tr = DataLoader(ds_train, batch_size=BATCH_SIZE, shuffle=True)
loader_te = DataLoader(ds_test, batch_size=500, shuffle=False)


class MyNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.c1 = nn.Conv2d(1, 8, 3, padding=1)
        self.c2 = nn.Conv2d(8, 16, 3, padding=1)
        self.mp = nn.MaxPool2d(2, 2)
        self.fc = nn.Linear(16 * 7 * 7, 64)
        self.fc_out = nn.Linear(64, 10)
        self.relu = nn.ReLU()

    def forward(self, z):
        z = self.mp(self.relu(self.c1(z)))
        z = self.mp(self.relu(self.c2(z)))
        z = z.view(z.size(0), -1)
        z = self.relu(self.fc(z))
        return self.fc_out(z)


net = MyNet()
crit = nn.CrossEntropyLoss()
opt = torch.optim.Adam(net.parameters(), lr=0.002)
losses = []

for ep in range(EPOCHS):
    net.train()
    running = 0.0
    for xb, yb in loader_tr:
        opt.zero_grad()
        out = net(xb)
        l = crit(out, yb)
        l.backward()
        opt.step()
        running += l.item()
    losses.append(running / len(loader_tr))
    print("epoch %d: loss %.4f" % (ep + 1, losses[-1]))

net.eval()
good = 0
count = 0
with torch.no_grad():
    for xb, yb in loader_te:
        _, guess = torch.max(net(xb), 1)
        count += yb.size(0)
        good += (guess == yb).sum().item()
acc = good / count
print("Accuracy of the network on the test images: %.2f %%" % (100 * acc))
