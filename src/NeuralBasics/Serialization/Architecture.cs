using System.Globalization;
using System.Numerics;
using System.Text.Json.Nodes;
using NeuralBasics.Activations;
using NeuralBasics.Layers;
using NeuralBasics.Losses;
using NeuralBasics.Scoring;

namespace NeuralBasics.Serialization;

/// <summary>
/// Writes a score function, loss or activation as JSON (no weights) and builds it back. Every type
/// the library ships is covered; anything else is refused with a clear message rather than lost.
/// </summary>
internal static class Architecture
{
    public static JsonObject Describe<T>(IScoreFunction<T> score)
        where T : unmanaged, IFloatingPointIeee754<T> => score switch
    {
        LinearScore<T> linear => new JsonObject { ["kind"] = "linear", ["inputs"] = linear.InputCount, ["classes"] = linear.ClassCount },
        Sequential<T> sequential => new JsonObject
        {
            ["kind"] = "sequential",
            ["layers"] = new JsonArray([.. sequential.Layers.Select(l => (JsonNode)DescribeLayer(l))]),
        },
        _ => throw new NotSupportedException($"Saving {score.GetType().Name} is not supported; save a LinearScore or a Sequential network."),
    };

    private static JsonObject DescribeLayer<T>(ILayer<T> layer)
        where T : unmanaged, IFloatingPointIeee754<T> => layer switch
    {
        Dense<T> dense => new JsonObject
        {
            ["type"] = "dense", ["inputs"] = dense.InputCount, ["outputs"] = dense.OutputCount, ["prefix"] = Prefix(dense.Weights.Name),
        },
        Maxout<T> maxout => new JsonObject
        {
            ["type"] = "maxout", ["inputs"] = maxout.InputCount, ["outputs"] = maxout.OutputCount, ["pieces"] = maxout.Pieces,
            ["prefix"] = Prefix(maxout.Weights.Name),
        },
        ActivationLayer<T> activation => new JsonObject
        {
            ["type"] = "activation", ["size"] = activation.InputCount, ["activation"] = DescribeActivation(activation.Activation),
        },
        PRelu<T> prelu => new JsonObject { ["type"] = "prelu", ["size"] = prelu.InputCount, ["prefix"] = prelu.Slopes.Name[..^1] },
        Dropout<T> dropout => new JsonObject { ["type"] = "dropout", ["size"] = dropout.InputCount, ["rate"] = dropout.Rate, ["seed"] = dropout.Seed },
        _ => throw new NotSupportedException($"Saving a {layer.GetType().Name} layer is not supported."),
    };

    private static string Prefix(string weightName) => weightName[..^1];

    private static JsonObject DescribeActivation(IActivation activation) => activation switch
    {
        Sigmoid => new JsonObject { ["name"] = "sigmoid" },
        Tanh => new JsonObject { ["name"] = "tanh" },
        Relu => new JsonObject { ["name"] = "relu" },
        LeakyRelu leaky => new JsonObject { ["name"] = "leaky_relu", ["slope"] = leaky.Slope },
        _ => throw new NotSupportedException($"Saving the activation {activation.GetType().Name} is not supported."),
    };

    public static JsonObject DescribeLoss(ILoss loss)
    {
        var (description, weights) = loss switch
        {
            SoftmaxCrossEntropyLoss softmax => (new JsonObject { ["name"] = "softmax_cross_entropy" }, softmax.ClassWeights),
            MulticlassHingeLoss hinge => (new JsonObject { ["name"] = "multiclass_hinge", ["delta"] = hinge.Delta }, hinge.ClassWeights),
            SquaredHingeLoss squared => (new JsonObject { ["name"] = "squared_hinge", ["delta"] = squared.Delta }, squared.ClassWeights),
            _ => throw new NotSupportedException($"Saving the loss {loss.GetType().Name} is not supported."),
        };
        if (weights is not null)
            description["class_weights"] = new JsonArray([.. weights.Select(w => (JsonNode)w)]);
        return description;
    }

    /// <summary>
    /// The parameter tensors (name, rows, columns) a description declares, computed without building
    /// anything: every count is checked (at least 1, products without overflow, each tensor within
    /// one array), so a loader can compare them with the file's tensors before it allocates a layer.
    /// </summary>
    public static List<(string Name, int Rows, int Columns)> DeclaredParameters(JsonObject description)
    {
        var declared = new List<(string, int, int)>();
        string kind = Text(description, "kind");
        switch (kind)
        {
            case "linear":
                int classes = Count(description, "classes", minimum: 2);
                declared.Add(("W", Count(description, "inputs"), classes));
                declared.Add(("b", 1, classes));
                break;
            case "sequential":
                foreach (var node in Array(description, "layers"))
                {
                    var layer = node as JsonObject ?? throw new InvalidDataException("A layer description is not a JSON object.");
                    string type = Text(layer, "type");
                    if (type == "prelu")
                    {
                        declared.Add((Text(layer, "prefix") + "a", 1, Count(layer, "size")));
                        continue;
                    }
                    if (type is not ("dense" or "maxout"))
                        continue;
                    int outputs = Count(layer, "outputs");
                    if (type == "maxout")
                        outputs = Product(outputs, Count(layer, "pieces", minimum: 2), "outputs x pieces");
                    string prefix = Text(layer, "prefix");
                    declared.Add((prefix + "W", Count(layer, "inputs"), outputs));
                    declared.Add((prefix + "b", 1, outputs));
                }
                break;
            default:
                throw new InvalidDataException($"Unknown score function kind '{kind}'.");
        }
        foreach (var (name, rows, columns) in declared)
            Product(rows, columns, $"the size of {name}");
        return declared;
    }

    private static double Rate(double rate) =>
        rate is >= 0 and < 1 ? rate : throw new InvalidDataException($"A dropout rate is {rate}; it must be in [0, 1).");

    private static int Count(JsonObject o, string key, int minimum = 1)
    {
        int value = Int(o, key);
        return value >= minimum ? value : throw new InvalidDataException($"'{key}' is {value}; it must be at least {minimum}.");
    }

    private static int Product(int a, int b, string what)
    {
        long product = (long)a * b;
        return product <= System.Array.MaxLength ? (int)product
            : throw new InvalidDataException($"{what} is {a} x {b} = {product}, more than an array can hold ({System.Array.MaxLength}).");
    }

    public static IScoreFunction<T> Build<T>(JsonObject description)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        string kind = Text(description, "kind");
        return kind switch
        {
            "linear" => new LinearScore<T>(Int(description, "inputs"), Int(description, "classes")),
            "sequential" => new Sequential<T>([.. Array(description, "layers").Select(BuildLayer<T>)]),
            _ => throw new InvalidDataException($"Unknown score function kind '{kind}'."),
        };
    }

    private static ILayer<T> BuildLayer<T>(JsonNode? node)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        var layer = node as JsonObject ?? throw new InvalidDataException("A layer description is not a JSON object.");
        string type = Text(layer, "type");
        return type switch
        {
            "dense" => new Dense<T>(Int(layer, "inputs"), Int(layer, "outputs"), WeightInit.Gaussian(0), namePrefix: Text(layer, "prefix")),
            "maxout" => new Maxout<T>(Int(layer, "inputs"), Int(layer, "outputs"), Int(layer, "pieces"), WeightInit.Gaussian(0),
                namePrefix: Text(layer, "prefix")),
            "activation" => new ActivationLayer<T>(BuildActivation(Object(layer, "activation")), Int(layer, "size")),
            "prelu" => new PRelu<T>(Int(layer, "size"), 0, Text(layer, "prefix")),
            "dropout" => new Dropout<T>(Int(layer, "size"), Rate(Number(layer, "rate")), Int(layer, "seed")),
            _ => throw new InvalidDataException($"Unknown layer type '{type}'."),
        };
    }

    private static IActivation BuildActivation(JsonObject activation)
    {
        string name = Text(activation, "name");
        return name switch
        {
            "sigmoid" => new Sigmoid(),
            "tanh" => new Tanh(),
            "relu" => new Relu(),
            "leaky_relu" => new LeakyRelu(Number(activation, "slope")),
            _ => throw new InvalidDataException($"Unknown activation '{name}'."),
        };
    }

    public static ILoss BuildLoss(JsonObject loss)
    {
        string name = Text(loss, "name");
        double[]? weights = loss["class_weights"] is null ? null : [.. Array(loss, "class_weights").Select(ClassWeight)];
        return name switch
        {
            "softmax_cross_entropy" => weights is null ? SoftmaxCrossEntropyLoss.Instance : new SoftmaxCrossEntropyLoss(weights),
            "multiclass_hinge" => new MulticlassHingeLoss(Number(loss, "delta"), weights),
            "squared_hinge" => new SquaredHingeLoss(Number(loss, "delta"), weights),
            _ => throw new InvalidDataException($"Unknown loss '{name}'."),
        };
    }

    private static double ClassWeight(JsonNode? node)
    {
        try
        {
            return node?.GetValue<double>() ?? throw new InvalidDataException("A class weight is null.");
        }
        catch (Exception e) when (e is InvalidOperationException or FormatException)
        {
            throw new InvalidDataException($"A class weight should be a number: {node!.ToJsonString()}.", e);
        }
    }

    private static JsonNode Required(JsonObject o, string key) =>
        o[key] ?? throw new InvalidDataException($"The architecture lacks '{key}'.");

    private static string Text(JsonObject o, string key) => Get<string>(o, key);

    private static int Int(JsonObject o, string key) => Get<int>(o, key);

    private static double Number(JsonObject o, string key) => Get<double>(o, key);

    private static JsonObject Object(JsonObject o, string key) =>
        Required(o, key) as JsonObject ?? throw new InvalidDataException($"'{key}' is not a JSON object.");

    private static JsonArray Array(JsonObject o, string key) =>
        Required(o, key) as JsonArray ?? throw new InvalidDataException($"'{key}' is not a JSON array.");

    private static TValue Get<TValue>(JsonObject o, string key)
    {
        try
        {
            return Required(o, key).GetValue<TValue>();
        }
        catch (Exception e) when (e is InvalidOperationException or FormatException)
        {
            throw new InvalidDataException(
                $"'{key}' should be a {typeof(TValue).Name.ToLower(CultureInfo.InvariantCulture)}: {Required(o, key).ToJsonString()}.", e);
        }
    }
}
