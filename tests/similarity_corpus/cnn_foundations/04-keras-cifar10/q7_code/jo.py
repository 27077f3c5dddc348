import keras
from keras import layers
import numpy as np


def block(inp, n_filters):
    """One stage of the network: convolution, normalisation, activation, pooling."""
    out = layers.Conv2D(n_filters, 3, padding="same")(inp)
    out = layers.BatchNormalization()(out)
    out = layers.Activation("relu")(out)   # non-linearity
    return layers.MaxPooling2D(2)(out)     # halve the resolution


# CIFAR-10: 32x32 colour images, 10 classes
(tr_x, tr_y), (te_x, te_y) = keras.datasets.cifar10.load_data()
y_train = keras.utils.to_categorical(tr_y, 10)
y_test = keras.utils.to_categorical(te_y, 10)

# zero mean, unit variance per channel
sd = tr_x.std(axis=(0, 1, 2), keepdims=True)
avg = tr_x.mean(axis=(0, 1, 2), keepdims=True)
x_test = (te_x - avg) / sd
x_train = (tr_x - avg) / sd

img = keras.Input(shape=(32, 32, 3))
feat = block(img, 32)
feat = block(feat, 64)
feat = block(feat, 128)
feat = layers.GlobalAveragePooling2D()(feat)
feat = layers.Dense(128, activation="relu")(feat)
pred = layers.Dense(10, activation="softmax")(feat)
cnn = keras.Model(img, pred, name="cnn")

cnn.compile(loss="categorical_crossentropy", metrics=["accuracy"],
            optimizer=keras.optimizers.RMSprop(1e-3))
cnn.summary()

# training
log = cnn.fit(x_train, y_train, validation_split=0.2, batch_size=BATCH_SIZE, epochs=EPOCHS, shuffle=True)
l, a = cnn.evaluate(x_test, y_test)
print(f"Test accuracy: {a * 100:.2f}%")
