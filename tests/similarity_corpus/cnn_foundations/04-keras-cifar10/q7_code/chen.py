import keras
from keras import layers
import matplotlib.pyplot as plt

(x_train, y_train), (x_test, y_test) = keras.datasets.cifar10.load_data()
print(x_train.shape, y_train.shape)
x_train = x_train.astype("float32") / 255
x_test = x_test.astype("float32") / 255

augment = keras.Sequential([layers.RandomFlip("horizontal"), layers.RandomTranslation(0.1, 0.1)])

model = keras.Sequential([
    keras.Input((32, 32, 3)),
    augment,
    layers.Conv2D(48, 3, activation="relu", padding="same"),
    layers.BatchNormalization(),
    layers.Conv2D(48, 3, activation="relu", padding="same"),
    layers.MaxPooling2D(),
    layers.Conv2D(96, 3, activation="relu", padding="same"),
    layers.BatchNormalization(),
    layers.MaxPooling2D(),
    layers.Flatten(),
    layers.Dense(256, activation="relu"),
    layers.Dropout(0.4),
    layers.Dense(10),
])
model.compile(optimizer="adam",
              loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
              metrics=["accuracy"])
model.summary()
history = model.fit(x_train, y_train, epochs=EPOCHS, batch_size=BATCH_SIZE, validation_split=0.1)

plt.plot(history.history["accuracy"], label="train")
plt.plot(history.history["val_accuracy"], label="validation")
plt.legend()
plt.show()

loss, acc = model.evaluate(x_test, y_test, verbose=2)
print("accuracy on the test set:", acc)
