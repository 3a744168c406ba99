namespace NeuralBasics.Components;

/// <summary>
/// A parameter tensor a component's description declares: its name in the file and its shape. A
/// loader compares these with the file's tensors before it builds (and allocates) anything.
/// </summary>
/// <param name="Name">The tensor's name, as the built component's <see cref="Parameter{T}.Name"/>.</param>
/// <param name="Rows">Its rows (1 for a vector).</param>
/// <param name="Columns">Its columns.</param>
public readonly record struct ParameterShape(string Name, int Rows, int Columns);
