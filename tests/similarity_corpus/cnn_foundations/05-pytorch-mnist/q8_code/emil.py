import torch
from torch import nn
from torch.utils.data import DataLoader
from torchvision import datasets, transforms

tfm = transforms.Compose([transforms.ToTensor(), transforms.Lambda(lambda t: t * 2 - 1)])
loaders = {
    split: DataLoader(datasets.MNIST("data", train=(split == "train"), download=True, transform=tfm),
                      batch_size=BATCH_SIZE, shuffle=(split == "train"))
    for split in ("train", "test")
}

layers = []
channels = [1, 24, 48]
for c_in, c_out in zip(channels, channels[1:]):
    layers += [nn.Conv2d(c_in, c_out, 3), nn.LeakyReLU(0.1), nn.MaxPool2d(2)]
model = nn.Sequential(*layers, nn.Flatten(), nn.LazyLinear(10))
model(torch.zeros(1, 1, 28, 28))   # initialise the lazy layer

optim = torch.optim.RMSprop(model.parameters(), lr=1e-3)
lossf = nn.CrossEntropyLoss(label_smoothing=0.05)
for ep in range(EPOCHS):
    model.train()
    for i, (x, y) in enumerate(loaders["train"]):
        loss = lossf(model(x), y)
        optim.zero_grad(set_to_none=True)
        loss.backward()
        optim.step()
    print(ep, float(loss))

model.eval()
with torch.no_grad():
    preds = torch.cat([model(x).argmax(-1) for x, _ in loaders["test"]])
    truth = torch.cat([y for _, y in loaders["test"]])
print("test accuracy", (preds == truth).float().mean().item())
