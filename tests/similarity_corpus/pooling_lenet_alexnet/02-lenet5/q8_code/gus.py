import torch
from torch import nn
from torch.utils.data import DataLoader
from torchvision import datasets, transforms

pipeline = transforms.Compose([transforms.Pad(2), transforms.ToTensor()])
ds_tr = datasets.MNIST("data", train=True, download=True, transform=pipeline)
ds_te = datasets.MNIST("data", train=False, download=True, transform=pipeline)
dl_tr = DataLoader(ds_tr, batch_size=BATCH_SIZE, shuffle=True)
dl_te = DataLoader(ds_te, batch_size=1000)


class Classic(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 6, kernel_size=5)
        self.pool1 = nn.AvgPool2d(2, stride=2)
        self.conv2 = nn.Conv2d(6, 16, kernel_size=5)
        self.pool2 = nn.AvgPool2d(2, stride=2)
        self.fc1 = nn.Linear(16 * 5 * 5, 120)
        self.fc2 = nn.Linear(120, 84)
        self.fc3 = nn.Linear(84, 10)

    def forward(self, t):
        t = self.pool1(torch.tanh(self.conv1(t)))
        t = self.pool2(torch.tanh(self.conv2(t)))
        t = torch.flatten(t, 1)
        t = torch.tanh(self.fc1(t))
        t = torch.tanh(self.fc2(t))
        return self.fc3(t)


net = Classic()
count = sum(w.numel() for w in net.parameters())
print("LeNet-5 parameters:", count)
opt = torch.optim.Adam(net.parameters(), lr=1e-3)
ce = nn.CrossEntropyLoss()

for ep in range(EPOCHS):
    net.train()
    for xb, yb in dl_tr:
        opt.zero_grad()
        l = ce(net(xb), yb)
        l.backward()
        opt.step()
    print(f"epoch {ep + 1} loss {l.item():.4f}")

net.eval()
ok = 0
with torch.no_grad():
    for xb, yb in dl_te:
        ok += (net(xb).argmax(1) == yb).sum().item()
acc = ok / len(ds_te)
print(f"test accuracy {acc:.4f}")
