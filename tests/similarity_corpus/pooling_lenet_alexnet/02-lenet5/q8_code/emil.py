import keras
import tensorflow as tf
from keras import layers

(x_train, y_train), (x_test, y_test) = keras.datasets.mnist.load_data()
x_train = tf.image.resize_with_pad(x_train[..., None], 32, 32).numpy() / 255.0
x_test = tf.image.resize_with_pad(x_test[..., None], 32, 32).numpy() / 255.0

inputs = keras.Input((32, 32, 1))
c1 = layers.Conv2D(6, 5, activation="tanh", name="C1")(inputs)
s2 = layers.AveragePooling2D(name="S2")(c1)
c3 = layers.Conv2D(16, 5, activation="tanh", name="C3")(s2)
s4 = layers.AveragePooling2D(name="S4")(c3)
flat = layers.Flatten()(s4)
c5 = layers.Dense(120, activation="tanh", name="C5")(flat)
f6 = layers.Dense(84, activation="tanh", name="F6")(c5)
outputs = layers.Dense(10, activation="softmax", name="output")(f6)
model = keras.Model(inputs=inputs, outputs=outputs, name="lenet5")
model.summary()

model.compile(optimizer=keras.optimizers.Adam(learning_rate=5e-4), loss="sparse_categorical_crossentropy",
              metrics=["accuracy"])
history = model.fit(x_train, y_train, epochs=EPOCHS, batch_size=BATCH_SIZE, validation_split=0.1,
                    callbacks=[keras.callbacks.ReduceLROnPlateau(patience=1)])
for layer in model.layers:
    print(layer.name, layer.output.shape)
test_accuracy = model.evaluate(x_test, y_test, verbose=0)[1]
print("total params:", model.count_params(), "test accuracy:", test_accuracy)
