import keras
from keras import layers


class SmallCNN(keras.Model):
    """Two conv stages and a classifier head."""

    def __init__(self):
        super().__init__()
        self.conv1 = layers.Conv2D(32, 5, activation="relu", padding="same")
        self.pool1 = layers.MaxPooling2D()
        self.conv2 = layers.Conv2D(64, 5, activation="relu", padding="same")
        self.pool2 = layers.MaxPooling2D()
        self.flatten = layers.Flatten()
        self.fc = layers.Dense(100, activation="relu")
        self.out = layers.Dense(10, activation="softmax")

    def call(self, inputs):
        h = self.pool1(self.conv1(inputs))
        h = self.pool2(self.conv2(h))
        return self.out(self.fc(self.flatten(h)))


(x_train, y_train), (x_test, y_test) = keras.datasets.cifar10.load_data()
x_train, x_test = x_train / 255.0, x_test / 255.0

model = SmallCNN()
model.build((None, 32, 32, 3))
model.summary()
model.compile(optimizer="nadam", loss="sparse_categorical_crossentropy",
              metrics=["sparse_categorical_accuracy"])
history = model.fit(x_train, y_train, epochs=EPOCHS, batch_size=BATCH_SIZE, validation_split=0.1, verbose=1)
_, test_accuracy = model.evaluate(x_test, y_test, verbose=0)
print("Accuracy:", round(test_accuracy, 4))
