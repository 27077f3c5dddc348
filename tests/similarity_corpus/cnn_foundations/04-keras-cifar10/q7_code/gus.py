import keras
from keras import layers
import numpy as np

# YOUR CODE HERE
(imgs_tr, labels_tr), (imgs_te, labels_te) = keras.datasets.cifar10.load_data()

mu = imgs_tr.mean(axis=(0, 1, 2), keepdims=True)
sigma = imgs_tr.std(axis=(0, 1, 2), keepdims=True)
x_train = (imgs_tr - mu) / sigma
x_test = (imgs_te - mu) / sigma
y_train = keras.utils.to_categorical(labels_tr, 10)
y_test = keras.utils.to_categorical(labels_te, 10)


def stage(t, n):
    t = layers.Conv2D(n, 3, padding="same")(t)
    t = layers.BatchNormalization()(t)
    t = layers.Activation("relu")(t)
    return layers.MaxPooling2D(2)(t)


inp = keras.Input(shape=(32, 32, 3))
h = stage(inp, 32)
h = stage(h, 64)
h = stage(h, 128)
h = layers.GlobalAveragePooling2D()(h)
h = layers.Dense(128, activation="relu")(h)
probs = layers.Dense(10, activation="softmax")(h)
net = keras.Model(inp, probs, name="gus_net")
net.summary()

net.compile(optimizer=keras.optimizers.RMSprop(1e-3),
            loss="categorical_crossentropy",
            metrics=["accuracy"])
hist = net.fit(x_train, y_train, epochs=EPOCHS, batch_size=BATCH_SIZE,
               validation_split=0.2, shuffle=True)
loss_te, acc_te = net.evaluate(x_test, y_test)
print(f"Test accuracy: {acc_te * 100:.2f}%")
