namespace NeuralBasics.Training;

/// <summary>The names of a checkpoint's tensors, in one place: the weights, the rule's (and transforms') state, early stopping's best weights.</summary>
internal static class CheckpointNames
{
    /// <summary>The current value of the parameter named <paramref name="name"/>.</summary>
    public static string Parameter(string name) => "param/" + name;

    /// <summary>Buffer <paramref name="buffer"/> of the state of tensor <paramref name="tensor"/> (the rule's, then the transforms').</summary>
    public static string State(int tensor, string buffer) => $"state/{tensor}/{buffer}";

    /// <summary>Early stopping's best value of the parameter named <paramref name="name"/>.</summary>
    public static string Best(string name) => "best/" + name;
}
