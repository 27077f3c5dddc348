import keras
from keras import layers
import numpy as np

# YOUR CODE HERE
# load the dataset (50k train / 10k test colour images)
(train_images, train_labels), (test_images, test_labels) = keras.datasets.cifar10.load_data()

# standardise with the per-channel statistics of the training set
mean = train_images.mean(axis=(0, 1, 2), keepdims=True)
std = train_images.std(axis=(0, 1, 2), keepdims=True)
x_train = (train_images - mean) / std
x_test = (test_images - mean) / std   # same statistics for the test set!
# one-hot labels for categorical crossentropy
y_train = keras.utils.to_categorical(train_labels, 10)
y_test = keras.utils.to_categorical(test_labels, 10)


def conv_block(x, filters):
    """conv -> batch norm -> relu -> 2x2 max pool"""
    x = layers.Conv2D(filters, 3, padding="same")(x)
    x = layers.BatchNormalization()(x)   # stabilises training
    x = layers.Activation("relu")(x)
    return layers.MaxPooling2D(2)(x)


# three blocks, doubling the filters each time
inputs = keras.Input(shape=(32, 32, 3))
x = conv_block(inputs, 32)
x = conv_block(x, 64)
x = conv_block(x, 128)

# classifier head
x = layers.GlobalAveragePooling2D()(x)
x = layers.Dense(128, activation="relu")(x)
outputs = layers.Dense(10, activation="softmax")(x)
model = keras.Model(inputs, outputs, name="cifar_cnn")
model.summary()

# train
model.compile(optimizer=keras.optimizers.RMSprop(1e-3),
              loss="categorical_crossentropy",
              metrics=["accuracy"])
history = model.fit(x_train, y_train, epochs=EPOCHS, batch_size=BATCH_SIZE,
                    validation_split=0.2, shuffle=True)

# evaluate on the test set
test_loss, test_acc = model.evaluate(x_test, y_test)
print(f"Test accuracy: {test_acc * 100:.2f}%")
