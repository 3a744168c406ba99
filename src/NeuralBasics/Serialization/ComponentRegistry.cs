using System.Collections.Concurrent;
using System.Numerics;
using System.Text.Json.Nodes;
using NeuralBasics.Activations;
using NeuralBasics.Components;
using NeuralBasics.Layers;
using NeuralBasics.Losses;
using NeuralBasics.Optimizers;
using NeuralBasics.Regularization;
using NeuralBasics.Scoring;
using NeuralBasics.Tables;

namespace NeuralBasics.Serialization;

/// <summary>
/// The readers of every component kind a model or checkpoint file may hold, by category: the
/// library's own are registered here once; a new layer, activation, loss or regularizer of yours is
/// registered once at start-up, after which models holding it save, load and export like the
/// library's own. Writing needs no registration: a component writes itself
/// (<see cref="IDescribedComponent"/>).
/// </summary>
/// <example>
/// <code>
/// ComponentRegistry.RegisterLayer("scale", new ScaleLayerReader());
/// ComponentRegistry.RegisterActivation("swish", description => new Swish(description.Number("beta")));
/// </code>
/// </example>
public static class ComponentRegistry
{
    private static readonly ConcurrentDictionary<string, ILayerReader> LayerReaders = new(StringComparer.Ordinal);
    private static readonly ConcurrentDictionary<string, Func<ComponentDescription, IActivation>> ActivationReaders = new(StringComparer.Ordinal);
    private static readonly ConcurrentDictionary<string, Func<ComponentDescription, ILoss>> LossReaders = new(StringComparer.Ordinal);
    private static readonly ConcurrentDictionary<string, Func<ComponentDescription, IRegularizer>> RegularizerReaders = new(StringComparer.Ordinal);
    private static readonly ConcurrentDictionary<string, Func<ComponentDescription, IColumnEncoding>> EncodingReaders = new(StringComparer.Ordinal);

    static ComponentRegistry()
    {
        RegisterLayer("dense", new DenseReader());
        RegisterLayer("maxout", new MaxoutReader());
        RegisterLayer("activation", new ActivationLayerReader());
        RegisterLayer("prelu", new PReluReader());
        RegisterLayer("dropout", new DropoutReader());
        RegisterLayer("conv2d", new Conv2DReader());
        RegisterLayer("maxpool2d", new MaxPool2DReader());
        RegisterActivation("sigmoid", _ => new Sigmoid());
        RegisterActivation("tanh", _ => new Tanh());
        RegisterActivation("relu", _ => new Relu());
        RegisterActivation("leaky_relu", LeakyRelu.Read);
        RegisterLoss("softmax_cross_entropy", SoftmaxCrossEntropyLoss.Read);
        RegisterLoss("multiclass_hinge", MulticlassHingeLoss.Read);
        RegisterLoss("squared_hinge", SquaredHingeLoss.Read);
        RegisterRegularizer("l2", L2Regularization.Read);
        RegisterRegularizer("none", _ => NoRegularization.Instance);
        RegisterColumnEncoding("numeric", NumericEncoding.Read);
        RegisterColumnEncoding("one_hot", OneHotEncoding.Read);
    }

    /// <summary>The context nested descriptions read and write through.</summary>
    internal static ComponentContext Context { get; } = new RegistryContext();

    /// <summary>Registers the reader of the layer kind <paramref name="kind"/> (the layer's <see cref="IDescribedComponent.Kind"/>).</summary>
    /// <exception cref="ArgumentException">The kind is empty or already has a reader.</exception>
    public static void RegisterLayer(string kind, ILayerReader reader) => Add(LayerReaders, kind, reader, "layer");

    /// <summary>Registers the reader of the activation kind <paramref name="kind"/>.</summary>
    /// <exception cref="ArgumentException">The kind is empty or already has a reader.</exception>
    public static void RegisterActivation(string kind, Func<ComponentDescription, IActivation> reader) => Add(ActivationReaders, kind, reader, "activation");

    /// <summary>Registers the reader of the loss kind <paramref name="kind"/>.</summary>
    /// <exception cref="ArgumentException">The kind is empty or already has a reader.</exception>
    public static void RegisterLoss(string kind, Func<ComponentDescription, ILoss> reader) => Add(LossReaders, kind, reader, "loss");

    /// <summary>Registers the reader of the regularizer kind <paramref name="kind"/>.</summary>
    /// <exception cref="ArgumentException">The kind is empty or already has a reader.</exception>
    public static void RegisterRegularizer(string kind, Func<ComponentDescription, IRegularizer> reader) => Add(RegularizerReaders, kind, reader, "regularizer");

    /// <summary>Registers the reader of the column encoding kind <paramref name="kind"/> (a <see cref="TableSchema"/>'s parts).</summary>
    /// <exception cref="ArgumentException">The kind is empty or already has a reader.</exception>
    public static void RegisterColumnEncoding(string kind, Func<ComponentDescription, IColumnEncoding> reader) => Add(EncodingReaders, kind, reader, "column encoding");

    /// <summary>Whether a reader is registered for the layer kind <paramref name="kind"/>.</summary>
    public static bool IsLayerRegistered(string kind) => LayerReaders.ContainsKey(kind);

    private static void Add<TReader>(ConcurrentDictionary<string, TReader> readers, string kind, TReader reader, string category)
        where TReader : class
    {
        ArgumentException.ThrowIfNullOrEmpty(kind);
        ArgumentNullException.ThrowIfNull(reader);
        if (!readers.TryAdd(kind, reader))
            throw new ArgumentException($"The {category} kind '{kind}' already has a reader; each kind is registered once.", nameof(kind));
    }

    /// <summary>The description of a score function, loss or regularizer, as written to a file.</summary>
    internal static JsonObject Describe<TComponent>(TComponent component)
        where TComponent : class => ComponentDescription.Of(component, Context).Json;

    /// <summary>
    /// The description of <paramref name="component"/> when it describes itself, else just its type
    /// name (a checkpoint then notices when the type changes, not when its settings do).
    /// </summary>
    internal static JsonObject DescribeOrName<TComponent>(TComponent component)
        where TComponent : class =>
        component is IDescribedComponent ? Describe(component) : new JsonObject { [Context.KindKey<TComponent>()] = component.GetType().Name };

    /// <summary>Builds the score function, loss or regularizer that <paramref name="json"/> describes.</summary>
    internal static TComponent Read<TComponent>(JsonObject json)
        where TComponent : class => Context.Read<TComponent>(new ComponentDescription(json, Context.KindKey<TComponent>(), Context));

    /// <summary>
    /// The parameter tensors a score function's description declares, computed without building
    /// anything: every count is checked, so a loader can compare them with the file's tensors
    /// before it allocates a layer.
    /// </summary>
    internal static List<ParameterShape> DeclaredParameters(JsonObject json)
    {
        var description = new ComponentDescription(json, "kind", Context);
        var declared = new List<ParameterShape>();
        switch (description.Kind)
        {
            case "linear":
                int classes = description.Count("classes", minimum: 2);
                declared.Add(new("W", description.Count("inputs"), classes));
                declared.Add(new("b", 1, classes));
                break;
            case "sequential":
                foreach (var layer in description.Descriptions<ILayer<float>>("layers"))
                    declared.AddRange(LayerReader(layer.Kind).Parameters(layer));
                break;
            default:
                throw new InvalidDataException($"Unknown score function kind '{description.Kind}'.");
        }
        foreach (var shape in declared)
            ComponentDescription.Product(shape.Rows, shape.Columns, $"the size of {shape.Name}");
        return declared;
    }

    private static ILayerReader LayerReader(string kind) =>
        LayerReaders.TryGetValue(kind, out var reader) ? reader
        : throw new InvalidDataException($"Unknown layer type '{kind}' (no reader is registered for it: ComponentRegistry.RegisterLayer).");

    private static TComponent Find<TComponent>(ConcurrentDictionary<string, Func<ComponentDescription, TComponent>> readers,
        ComponentDescription description, string category)
    {
        string kind = description.Kind;
        return readers.TryGetValue(kind, out var reader) ? reader(description)
            : throw new InvalidDataException($"Unknown {category} '{kind}' (no reader is registered for it: ComponentRegistry.Register{string.Concat(category.Split(' ').Select(word => char.ToUpperInvariant(word[0]) + word[1..]))}).");
    }

    private static IScoreFunction<T> ReadScore<T>(ComponentDescription description)
        where T : unmanaged, IFloatingPointIeee754<T> => description.Kind switch
    {
        "linear" => new LinearScore<T>(description.Count("inputs"), description.Count("classes", minimum: 2)),
        "sequential" => new Sequential<T>([.. description.ReadComponents<ILayer<T>>("layers")]),
        var kind => throw new InvalidDataException($"Unknown score function kind '{kind}'."),
    };

    /// <summary>The categories: which key holds the kind, and which readers build it.</summary>
    private sealed class RegistryContext : ComponentContext
    {
        public override string KindKey<TComponent>() =>
            typeof(TComponent) == typeof(IScoreFunction<float>) || typeof(TComponent) == typeof(IScoreFunction<double>) ? "kind"
            : typeof(TComponent) == typeof(ILayer<float>) || typeof(TComponent) == typeof(ILayer<double>) ? "type"
            : typeof(TComponent) == typeof(IActivation) || typeof(TComponent) == typeof(ILoss) || typeof(TComponent) == typeof(IRegularizer)
              || typeof(TComponent) == typeof(UpdateRule) || typeof(TComponent) == typeof(LearningRateSchedule)
              || typeof(TComponent) == typeof(SutskeverMomentum) || typeof(TComponent) == typeof(IGradientTransform) ? "name"
            : typeof(TComponent) == typeof(IColumnEncoding) ? "encoding"
            : throw new NotSupportedException($"{typeof(TComponent).Name} is not a category of component that files hold.");

        public override TComponent Read<TComponent>(ComponentDescription description)
        {
            object component =
                typeof(TComponent) == typeof(ILayer<float>) ? LayerReader(description.Kind).Read<float>(description)
                : typeof(TComponent) == typeof(ILayer<double>) ? LayerReader(description.Kind).Read<double>(description)
                : typeof(TComponent) == typeof(IActivation) ? Find(ActivationReaders, description, "activation")
                : typeof(TComponent) == typeof(ILoss) ? Find(LossReaders, description, "loss")
                : typeof(TComponent) == typeof(IRegularizer) ? Find(RegularizerReaders, description, "regularizer")
                : typeof(TComponent) == typeof(IColumnEncoding) ? Find(EncodingReaders, description, "column encoding")
                : typeof(TComponent) == typeof(IScoreFunction<float>) ? ReadScore<float>(description)
                : typeof(TComponent) == typeof(IScoreFunction<double>) ? ReadScore<double>(description)
                : throw new NotSupportedException($"{typeof(TComponent).Name} is not a category of component that files hold.");
            return (TComponent)component;
        }
    }
}
