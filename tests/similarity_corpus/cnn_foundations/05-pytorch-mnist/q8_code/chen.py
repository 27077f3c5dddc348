import torch
from torch import nn
from torch.utils.data import DataLoader
from torchvision import datasets, transforms

device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
print("using", device)

preprocess = transforms.Compose([
    transforms.ToTensor(),
    transforms.Normalize(mean=[0.5], std=[0.5]),
])
train_loader = DataLoader(datasets.MNIST("data", train=True, download=True, transform=preprocess),
                          batch_size=BATCH_SIZE, shuffle=True, num_workers=0)
test_loader = DataLoader(datasets.MNIST("data", train=False, download=True, transform=preprocess),
                         batch_size=BATCH_SIZE)


class DigitCNN(nn.Module):
    def __init__(self, n_classes: int = 10) -> None:
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(1, 32, 3, padding=1), nn.BatchNorm2d(32), nn.ReLU(),
            nn.Conv2d(32, 32, 3, padding=1), nn.BatchNorm2d(32), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(32, 64, 3, padding=1), nn.BatchNorm2d(64), nn.ReLU(), nn.MaxPool2d(2),
        )
        self.classifier = nn.Sequential(nn.Flatten(), nn.Dropout(0.3), nn.Linear(64 * 7 * 7, n_classes))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.features(x))


model = DigitCNN().to(device)
loss_fn = nn.CrossEntropyLoss()
optimizer = torch.optim.AdamW(model.parameters(), lr=2e-3, weight_decay=1e-4)
scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=1, gamma=0.7)

for epoch in range(EPOCHS):
    model.train()
    running = 0.0
    for step, (images, labels) in enumerate(train_loader):
        images, labels = images.to(device), labels.to(device)
        logits = model(images)
        loss = loss_fn(logits, labels)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        running += loss.item()
    scheduler.step()
    print(f"[{epoch + 1}/{EPOCHS}] mean loss {running / (step + 1):.4f}")

model.eval()
right, seen = 0, 0
with torch.inference_mode():
    for images, labels in test_loader:
        out = model(images.to(device))
        right += (out.argmax(1).cpu() == labels).sum().item()
        seen += labels.numel()
test_accuracy = right / seen
print(f"accuracy {test_accuracy:.2%}")
