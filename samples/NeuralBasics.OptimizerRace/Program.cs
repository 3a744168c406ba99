using NeuralBasics.Data;
using NeuralBasics.Losses;
using NeuralBasics.Optimizers;
using NeuralBasics.Regularization;
using NeuralBasics.Scoring;
using NeuralBasics.Training;
using ScottPlot;

// The update rules racing, drawn as PNG images with ScottPlot:
//   (a) every rule from the same start on the contour plots of a long narrow valley, a saddle
//       point and the Beale function;
//   (b) loss against epoch of an SVM and a softmax classifier, each rule on the same data.
// Usage: dotnet run -c Release --project samples/NeuralBasics.OptimizerRace [output folder]
string output = args.Length > 0 ? args[0] : "optimizer-race";
Directory.CreateDirectory(output);

var surfaces = new Surface[]
{
    new("valley", "Long narrow valley: f = 0.05x² + 2.5y² (condition number 50)",
        w => 0.05 * w[0] * w[0] + 2.5 * w[1] * w[1],
        w => [0.1 * w[0], 5 * w[1]],
        Start: [-9, 1.2], XRange: (-10, 10), YRange: (-2, 2), Steps: 150, LogLevels: true,
        Rules: [new Sgd(0.15), new Momentum(0.05), new Nesterov(0.05), new AdaGrad(1.0), new RmsProp(0.1),
                new Adam(0.5), new AdamW(0.5), new AdaDelta(5.0), new Nadam(0.5), new Adamax(0.5)],
        Target: [0, 0], TargetLabel: "minimum (0, 0)"),
    new("saddle", "Saddle point: f = x² − y², starting just off the ridge",
        w => w[0] * w[0] - w[1] * w[1],
        w => [2 * w[0], -2 * w[1]],
        Start: [-1.8, 1e-3], XRange: (-2, 2), YRange: (-2, 2), Steps: 120, LogLevels: false,
        Rules: [new Sgd(0.05), new Momentum(0.02), new Nesterov(0.02), new AdaGrad(0.3), new RmsProp(0.03),
                new Adam(0.1), new AdamW(0.1), new AdaDelta(1.0), new Nadam(0.1), new Adamax(0.1)],
        Target: [0, 0], TargetLabel: "saddle point (0, 0): no minimum, f falls along y"),
    new("beale", "Beale function (minimum at (3, 0.5))",
        Beale,
        BealeGradient,
        Start: [1, 1.5], XRange: (-4.5, 4.5), YRange: (-4.5, 4.5), Steps: 1000, LogLevels: true,
        Rules: [new Sgd(0.005), new Momentum(0.002), new Nesterov(0.002), new AdaGrad(0.5), new RmsProp(0.01),
                new Adam(0.05), new AdamW(0.05), new AdaDelta(1.0), new Nadam(0.05), new Adamax(0.05)],
        Target: [3, 0.5], TargetLabel: "minimum (3, 0.5)"),
};

foreach (var surface in surfaces)
{
    string path = Path.Combine(output, $"race-{surface.Name}.png");
    DrawRace(surface, path);
    Console.WriteLine($"wrote {path}");
}

// (b) The same data for every rule: the three-arm spiral, which no linear classifier fits, so
// the loss has a real minimum to approach.
var data = SyntheticData.Spiral<double>(pointsPerClass: 200, classCount: 3, seed: 4);
var firstOrder = new UpdateRule[]
{
    new Sgd(0.1), new Momentum(0.05), new Nesterov(0.05), new AdaGrad(0.5), new RmsProp(0.01),
    new Adam(0.01), new AdamW(0.01), new AdaDelta(1.0), new Nadam(0.01), new Adamax(0.02),
};
foreach (var (name, loss) in new (string, ILoss)[] { ("svm", new MulticlassHingeLoss()), ("softmax", SoftmaxCrossEntropyLoss.Instance) })
{
    var plot = new Plot();
    foreach (var rule in firstOrder)
        AddLossCurve(plot, RuleName(rule), loss, rule, data);
    if (loss is ISecondOrderLoss)
        AddNewtonCurve(plot, loss, data);
    plot.Title($"Linear {(name == "svm" ? "SVM (hinge)" : "softmax")} + L2 (λ 1e-3), 600-point spiral, batch 32");
    plot.XLabel("epoch (Newton: iteration)");
    plot.YLabel("objective over the whole set, log scale");
    plot.Axes.SetLimitsX(0, 41);
    // From just below the best final value to the slowest rule's value at epoch 5: the first
    // epochs' large losses would squash the curves that matter into one line.
    var finals = plot.GetPlottables().OfType<ScottPlot.Plottables.Scatter>().Select(c => c.Data.GetScatterPoints()).ToList();
    double low = finals.Min(points => points[^1].Y), high = finals.Max(points => points[Math.Min(4, points.Count - 1)].Y);
    plot.Axes.SetLimitsY(low - 0.02 * (high - low + 0.01), high + 0.05 * (high - low + 0.01));
    plot.ShowLegend(Alignment.UpperRight);
    string path = Path.Combine(output, $"loss-{name}.png");
    plot.SavePng(path, 900, 600);
    Console.WriteLine($"wrote {path}");
}

static void AddLossCurve(Plot plot, string label, ILoss loss, UpdateRule rule, DataSet<double> data)
{
    var score = new LinearScore<double>(data.FeatureCount, data.ClassCount, seed: 3);
    // The objective over the whole set with each epoch's final weights, as Newton's points are.
    var options = new TrainerOptions { Epochs = 40, BatchSize = 32, Seed = 1, EvaluateTrainingSet = true };
    var history = new Trainer<double>(score, loss, new L2Regularization(1e-3), rule, options).Train(data).History;
    AddCurve(plot, label, [.. history.Epochs.Select(e => (double)e.Epoch)], [.. history.Epochs.Select(e => e.TotalLoss)]);
}

static void AddNewtonCurve(Plot plot, ILoss loss, DataSet<double> data)
{
    var score = new LinearScore<double>(data.FeatureCount, data.ClassCount, seed: 3);
    var iterations = new List<NewtonIteration>();
    NewtonMethod.Minimize(score, loss, new L2Regularization(1e-3), data, new NewtonOptions { MaxIterations = 40 }, new Recorder(iterations.Add));
    AddCurve(plot, "Newton (full batch)", [.. iterations.Select(i => (double)i.Iteration)], [.. iterations.Select(i => i.Objective)]);
}

static void AddCurve(Plot plot, string label, double[] epochs, double[] objective)
{
    var line = plot.Add.ScatterLine(epochs, [.. objective.Select(Math.Log10)]);
    line.LegendText = $"{label}: {objective[^1]:F3}";
    line.LineWidth = 2;
    // Log scale: ticks at the powers of ten, labelled with the loss itself.
    plot.Axes.Left.TickGenerator = new ScottPlot.TickGenerators.NumericAutomatic
    {
        LabelFormatter = y => Math.Pow(10, y).ToString("G3"),
    };
}

static void DrawRace(Surface surface, string path)
{
    var plot = new Plot();
    const int grid = 120;
    var points = new Coordinates3d[grid, grid];
    for (int i = 0; i < grid; i++)
    {
        for (int j = 0; j < grid; j++)
        {
            double x = surface.XRange.Min + (surface.XRange.Max - surface.XRange.Min) * j / (grid - 1);
            double y = surface.YRange.Min + (surface.YRange.Max - surface.YRange.Min) * i / (grid - 1);
            double z = surface.F([x, y]);
            points[i, j] = new Coordinates3d(x, y, surface.LogLevels ? Math.Log(1 + z) : z);
        }
    }
    var contour = plot.Add.ContourLines(points, 16);
    contour.LineColor = Colors.Gray.WithAlpha(0.6);
    contour.LabelStyle.IsVisible = false;

    foreach (var rule in surface.Rules)
    {
        var (xs, ys) = Trajectory(rule, surface);
        var line = plot.Add.ScatterLine(xs, ys);
        line.LineWidth = 2;
        line.LegendText = RuleName(rule);
    }
    var start = plot.Add.Marker(surface.Start[0], surface.Start[1]);
    start.Size = 10;
    start.Color = Colors.Black;
    start.LegendText = $"start ({surface.Start[0]:G3}, {surface.Start[1]:G3})";
    var target = plot.Add.Marker(surface.Target[0], surface.Target[1], MarkerShape.FilledDiamond, 14);
    target.Color = Colors.Red;
    target.LegendText = surface.TargetLabel;
    plot.Title($"{surface.Title}: {surface.Steps} steps of each rule");
    plot.XLabel("x (first weight)");
    plot.YLabel("y (second weight)");
    plot.Axes.SetLimits(surface.XRange.Min, surface.XRange.Max, surface.YRange.Min, surface.YRange.Max);
    plot.ShowLegend(Alignment.UpperRight);
    plot.SavePng(path, 900, 650);
}

// The rule's path from the start, stopped where it leaves the drawn region or blows up.
static (double[] Xs, double[] Ys) Trajectory(UpdateRule rule, Surface surface)
{
    double[] w = [.. surface.Start];
    var state = rule.CreateState<double>(2);
    var xs = new List<double> { w[0] };
    var ys = new List<double> { w[1] };
    for (int step = 0; step < surface.Steps; step++)
    {
        double[] g = surface.Gradient(w);
        if (!double.IsFinite(g[0]) || !double.IsFinite(g[1]))
            break;
        rule.Apply<double>(w, g, state);
        xs.Add(w[0]);
        ys.Add(w[1]);
        if (w[0] < surface.XRange.Min || w[0] > surface.XRange.Max || w[1] < surface.YRange.Min || w[1] > surface.YRange.Max)
            break;
    }
    return (xs.ToArray(), ys.ToArray());
}

static string RuleName(UpdateRule rule) => rule switch
{
    Momentum m => $"Momentum (lr {rule.LearningRate}, μ {m.Mu})",
    Nesterov n => $"Nesterov (lr {rule.LearningRate}, μ {n.Mu})",
    _ => $"{rule.GetType().Name} (lr {rule.LearningRate})",
};

static double Beale(double[] w)
{
    double x = w[0], y = w[1];
    double a = 1.5 - x + x * y, b = 2.25 - x + x * y * y, c = 2.625 - x + x * y * y * y;
    return a * a + b * b + c * c;
}

static double[] BealeGradient(double[] w)
{
    double x = w[0], y = w[1];
    double a = 1.5 - x + x * y, b = 2.25 - x + x * y * y, c = 2.625 - x + x * y * y * y;
    return
    [
        2 * a * (y - 1) + 2 * b * (y * y - 1) + 2 * c * (y * y * y - 1),
        2 * a * x + 2 * b * 2 * x * y + 2 * c * 3 * x * y * y,
    ];
}

/// <summary>A 2-D test function, where to start, what to draw, and a learning rate per rule.</summary>
internal sealed record Surface(
    string Name, string Title, Func<double[], double> F, Func<double[], double[]> Gradient,
    double[] Start, (double Min, double Max) XRange, (double Min, double Max) YRange, int Steps, bool LogLevels,
    UpdateRule[] Rules, double[] Target, string TargetLabel);

/// <summary>Collects Newton's iterations as they are reported.</summary>
internal sealed class Recorder(Action<NewtonIteration> report) : IProgress<NewtonIteration>
{
    public void Report(NewtonIteration value) => report(value);
}
