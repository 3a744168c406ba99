namespace NeuralBasics;

/// <summary>Formats matrix shapes for error messages and checks the shapes kernels are given.</summary>
internal static class Shape
{
    public static string Of(int rows, int columns) => $"[{rows}x{columns}]";

    /// <summary>Checks that a rows x columns matrix can be allocated: counts not negative, the product within <see cref="Array.MaxLength"/>.</summary>
    public static void CheckAllocation(int rows, int columns)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(rows);
        ArgumentOutOfRangeException.ThrowIfNegative(columns);
        long needed = (long)rows * columns;
        if (needed > Array.MaxLength)
            throw new ArgumentOutOfRangeException(nameof(columns), columns,
                $"A {Of(rows, columns)} matrix has {needed} elements, more than an array can hold ({Array.MaxLength}).");
    }

    /// <summary>Checks that a buffer of <paramref name="length"/> elements holds a rows x columns matrix.</summary>
    public static void CheckBuffer(int length, int rows, int columns, string paramName)
    {
        if (rows < 0)
            throw new ArgumentOutOfRangeException(nameof(rows), rows, "A matrix cannot have a negative number of rows.");
        if (columns < 0)
            throw new ArgumentOutOfRangeException(nameof(columns), columns, "A matrix cannot have a negative number of columns.");
        long needed = (long)rows * columns;
        if (needed > int.MaxValue)
            throw new ArgumentException($"A {Of(rows, columns)} matrix has {needed} elements, more than a span can hold.", paramName);
        if (length < needed)
            throw new ArgumentException(
                $"A {Of(rows, columns)} matrix needs {needed} elements but the buffer holds only {length}.", paramName);
    }
}
