namespace NeuralBasics.Components;

/// <summary>
/// What a <see cref="ComponentDescription"/> needs to write and read the components nested in it
/// (a network's layers, an activation layer's function): the key its category writes the kind
/// under, and the reader registered for a kind. Implemented by the registry.
/// </summary>
internal abstract class ComponentContext
{
    /// <summary>The JSON key the kind of a <typeparamref name="TComponent"/> is written under.</summary>
    public abstract string KindKey<TComponent>()
        where TComponent : class;

    /// <summary>Builds the <typeparamref name="TComponent"/> that <paramref name="description"/> describes.</summary>
    public abstract TComponent Read<TComponent>(ComponentDescription description)
        where TComponent : class;
}
