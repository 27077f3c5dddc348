import keras
from keras import layers
import tensorflow as tf

# YOUR CODE HERE
data = keras.datasets.cifar10
(X_tr, Y_tr), (X_te, Y_te) = data.load_data()
x_train = tf.cast(X_tr, tf.float32).numpy() / 255.
x_test = tf.cast(X_te, tf.float32).numpy() / 255.
y_train = Y_tr.flatten()
y_test = Y_te.flatten()

model = keras.models.Sequential(name="my_cnn")
model.add(keras.Input(shape=x_train.shape[1:]))
for n_filters in [32, 64, 128]:
    model.add(layers.Conv2D(n_filters, kernel_size=3, padding="same", activation="elu"))
    model.add(layers.MaxPool2D(pool_size=2))
model.add(layers.Flatten())
model.add(layers.Dense(10, activation="softmax"))

opt = keras.optimizers.SGD(learning_rate=0.01, momentum=0.9)
model.compile(opt, "sparse_categorical_crossentropy", ["accuracy"])
model.summary()
early = keras.callbacks.EarlyStopping(patience=3, restore_best_weights=True)
history = model.fit(x_train, y_train, validation_split=0.15, epochs=EPOCHS, batch_size=BATCH_SIZE,
                    callbacks=[early])
results = model.evaluate(x_test, y_test, return_dict=True)
test_accuracy = results["accuracy"]
print("test accuracy = %.3f" % test_accuracy)
