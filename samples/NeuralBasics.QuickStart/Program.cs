using NeuralBasics.Activations;
using NeuralBasics.Data;
using NeuralBasics.Layers;
using NeuralBasics.Losses;
using NeuralBasics.Models;
using NeuralBasics.Optimizers;
using NeuralBasics.Regularization;
using NeuralBasics.Training;

// Data: the three-arm spiral (or FashionMnist.Load<float>(), or CsvDataSet.Read<float>("my.csv")).
var data = SyntheticData.Spiral<float>(pointsPerClass: 200, classCount: 3, seed: 1);
var (train, validation) = DataSplit.Stratified(data, validationFraction: 0.2, seed: 1);
var standardizer = Standardizer.Fit(train);

// A network: 2 inputs -> 64 ReLU units -> 3 class scores.
var net = new NetworkBuilder<float>(inputs: 2, seed: 1).Dense(64, new Relu()).Dense(3).Build();
var trainer = new Trainer<float>(net, SoftmaxCrossEntropyLoss.Instance, new L2Regularization(1e-4), new Adam(0.01),
    new TrainerOptions { Epochs = 200, BatchSize = 32, Seed = 1, EarlyStopping = new EarlyStopping(patience: 20) });

// Train, watching every 20th epoch; a CancellationToken would stop it at a batch boundary.
var progress = new Progress<EpochResult>(e => { if (e.Epoch % 20 == 0) Console.WriteLine(e); });
var result = trainer.Train(standardizer.Transform(train), standardizer.Transform(validation), progress);

// Ship it: one file with the weights, architecture, standardizer and class names.
var model = result.Model.WithPreprocessing(standardizer, ["arm A", "arm B", "arm C"]);
model.Save("spiral.safetensors");
var loaded = Classifier<float>.Load("spiral.safetensors");
int[] predicted = loaded.Predict(validation.Features);   // raw features: the model standardizes them
Console.WriteLine($"best epoch {result.History.BestEpoch}, validation accuracy {loaded.Accuracy(validation):P1}, " +
                  $"first sample is {loaded.ClassNames![predicted[0]]}");
