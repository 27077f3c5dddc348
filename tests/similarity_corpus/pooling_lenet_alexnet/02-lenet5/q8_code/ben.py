import keras
from keras import layers

(train_x, train_y), (test_x, test_y) = keras.datasets.mnist.load_data()
x_train = train_x.reshape(-1, 28, 28, 1) / 255.0
x_test = test_x.reshape(-1, 28, 28, 1) / 255.0

# 28x28 input: 'same' padding in C1 gives the classic 28x28x6 maps
model = keras.Sequential([
    layers.Conv2D(6, 5, padding="same", activation="relu", input_shape=(28, 28, 1)),
    layers.MaxPooling2D(2),
    layers.Conv2D(16, 5, activation="relu"),
    layers.MaxPooling2D(2),
    layers.Flatten(),
    layers.Dense(120, activation="relu"),
    layers.Dense(84, activation="relu"),
    layers.Dense(10, activation="softmax"),
])
model.compile(keras.optimizers.Adam(0.001), keras.losses.SparseCategoricalCrossentropy(), ["accuracy"])
model.summary()
print(f"{model.count_params()} parameters")
history = model.fit(x_train, train_y, batch_size=BATCH_SIZE, epochs=EPOCHS, validation_data=(x_test, test_y))
acc = model.evaluate(x_test, test_y, verbose=0)[1]
print(f"accuracy on the test set: {acc:.3%}")
