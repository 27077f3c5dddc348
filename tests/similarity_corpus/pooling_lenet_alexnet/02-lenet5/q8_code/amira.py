import numpy as np
import keras
from keras import layers

(x_train, y_train), (x_test, y_test) = keras.datasets.mnist.load_data()
x_train = np.pad(x_train, ((0, 0), (2, 2), (2, 2)), "constant")
x_test = np.pad(x_test, ((0, 0), (2, 2), (2, 2)), "constant")
x_train = np.expand_dims(x_train, -1).astype("float32") / 255.0
x_test = np.expand_dims(x_test, -1).astype("float32") / 255.0

model = keras.Sequential(name="LeNet5")
model.add(keras.Input(shape=(32, 32, 1)))
model.add(layers.Conv2D(filters=6, kernel_size=(5, 5), activation="tanh"))
model.add(layers.AveragePooling2D(pool_size=(2, 2), strides=2))
model.add(layers.Conv2D(filters=16, kernel_size=(5, 5), activation="tanh"))
model.add(layers.AveragePooling2D(pool_size=(2, 2), strides=2))
model.add(layers.Flatten())
model.add(layers.Dense(units=120, activation="tanh"))
model.add(layers.Dense(units=84, activation="tanh"))
model.add(layers.Dense(units=10, activation="softmax"))
model.summary()
print("parameters:", model.count_params())

model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
history = model.fit(x_train, y_train, epochs=EPOCHS, batch_size=BATCH_SIZE, validation_split=0.1)
test_loss, test_accuracy = model.evaluate(x_test, y_test)
print("test accuracy:", test_accuracy)
