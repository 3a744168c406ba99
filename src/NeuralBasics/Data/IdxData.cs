namespace NeuralBasics.Data;

/// <summary>The contents of an IDX file of unsigned bytes: its dimensions and its values in row-major order.</summary>
/// <param name="Dimensions">The sizes, outermost first (for images: count, rows, columns).</param>
/// <param name="Values">The values, row-major; as many as the product of the dimensions.</param>
public sealed record IdxData(int[] Dimensions, byte[] Values);
