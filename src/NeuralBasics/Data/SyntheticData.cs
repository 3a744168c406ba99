using System.Numerics;

namespace NeuralBasics.Data;

/// <summary>Generated data sets that need nothing installed.</summary>
public static class SyntheticData
{
    /// <summary>
    /// The classic spiral: <paramref name="classCount"/> arms winding around the origin in 2-D,
    /// <paramref name="pointsPerClass"/> points each. Arm c, point i: radius r = i / (n − 1),
    /// angle θ = c·4 + 4r + noise·z (z standard normal), x = (r sin θ, r cos θ). No straight line
    /// separates the arms, so a linear classifier stays near chance and a network is needed.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">Fewer than 2 points or classes, or negative noise.</exception>
    public static DataSet<T> Spiral<T>(int pointsPerClass = 100, int classCount = 3, double noise = 0.2, int seed = 0)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        Guard.AtLeast(pointsPerClass, 2, "The number of points of a spiral arm");
        Guard.ClassCount(classCount);
        Guard.NonNegativeFinite(noise, "The noise");

        var random = new Random(seed);
        var x = new Matrix<T>(pointsPerClass * classCount, 2);
        var y = new int[pointsPerClass * classCount];
        for (int c = 0; c < classCount; c++)
        {
            for (int i = 0; i < pointsPerClass; i++)
            {
                int row = c * pointsPerClass + i;
                double r = (double)i / (pointsPerClass - 1);
                double theta = c * 4.0 + 4.0 * r + noise * Gaussian.Next(random);
                x[row, 0] = T.CreateChecked(r * Math.Sin(theta));
                x[row, 1] = T.CreateChecked(r * Math.Cos(theta));
                y[row] = c;
            }
        }
        return new DataSet<T>(x, y, classCount);
    }

    /// <summary>
    /// Gaussian blobs: <paramref name="classCount"/> clusters of <paramref name="pointsPerClass"/>
    /// points in <paramref name="featureCount"/> dimensions, each with standard deviation
    /// <paramref name="spread"/> around a centre drawn uniformly from [−10, 10]^D (the box grows
    /// when needed) and at least 8·spread from every other centre, so the blobs are, with
    /// overwhelming probability, linearly separable.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">A count below its minimum, or a non-positive spread.</exception>
    public static DataSet<T> Blobs<T>(int pointsPerClass = 100, int classCount = 3, int featureCount = 2, double spread = 1.0, int seed = 0)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        Guard.AtLeast(pointsPerClass, 1, "The number of points of a blob");
        Guard.ClassCount(classCount);
        Guard.AtLeast(featureCount, 1, "The number of features");
        Guard.PositiveFinite(spread, "The spread");

        var random = new Random(seed);
        var centres = new double[classCount, featureCount];
        double half = 10, minDistance = 8 * spread;
        for (int c = 0, tries = 0; c < classCount; tries++)
        {
            if (tries == 1000)
            {
                half *= 2; // too crowded: widen the box
                tries = 0;
            }
            for (int d = 0; d < featureCount; d++)
                centres[c, d] = (random.NextDouble() * 2 - 1) * half;
            bool farEnough = true;
            for (int other = 0; other < c && farEnough; other++)
            {
                double squared = 0;
                for (int d = 0; d < featureCount; d++)
                    squared += (centres[c, d] - centres[other, d]) * (centres[c, d] - centres[other, d]);
                farEnough = squared >= minDistance * minDistance;
            }
            if (farEnough)
            {
                c++;
                tries = 0;
            }
        }

        var x = new Matrix<T>(pointsPerClass * classCount, featureCount);
        var y = new int[pointsPerClass * classCount];
        for (int c = 0; c < classCount; c++)
        {
            for (int i = 0; i < pointsPerClass; i++)
            {
                int row = c * pointsPerClass + i;
                for (int d = 0; d < featureCount; d++)
                    x[row, d] = T.CreateChecked(centres[c, d] + spread * Gaussian.Next(random));
                y[row] = c;
            }
        }
        return new DataSet<T>(x, y, classCount);
    }
}
