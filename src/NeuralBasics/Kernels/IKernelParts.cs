namespace NeuralBasics.Kernels;

/// <summary>Work that a managed object does in parts, for <see cref="KernelThreads.Run(IKernelParts, int)"/>.</summary>
internal interface IKernelParts
{
    /// <summary>Does part <paramref name="part"/> of <paramref name="parts"/> (any thread, any order).</summary>
    void RunPart(int part, int parts);
}
