using NeuralBasics.Data;

namespace NeuralBasics.Tests.Data;

public class DataSetTests
{
    [Fact]
    public void BadInput_Throws_NamingTheOffender()
    {
        var x = new Matrix<double>(3, 2);
        var e = Assert.Throws<ArgumentException>(() => new DataSet<double>(x, [0, 1], 2));
        Assert.Contains("3 samples", e.Message);
        Assert.Contains("2 labels", e.Message);
        var range = Assert.Throws<ArgumentOutOfRangeException>(() => new DataSet<double>(x, [0, 2, 1], 2));
        Assert.Contains("Label 2 of sample 1", range.Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => new DataSet<double>(x, [0, -1, 1], 2));
        Assert.Throws<ArgumentException>(() => new DataSet<double>(new Matrix<double>(0, 2), [], 2));

        x[2, 1] = double.NaN;
        e = Assert.Throws<ArgumentException>(() => new DataSet<double>(x, [0, 1, 1], 2));
        Assert.Contains("Feature 1 of sample 2", e.Message);
        x[2, 1] = double.NegativeInfinity;
        Assert.Throws<ArgumentException>(() => new DataSet<double>(x, [0, 1, 1], 2));
    }

    [Fact]
    public void Spiral_HasTheClassicShape()
    {
        var data = SyntheticData.Spiral<double>(pointsPerClass: 100, classCount: 3, noise: 0, seed: 1);
        Assert.Equal(300, data.Count);
        Assert.Equal(2, data.FeatureCount);
        Assert.Equal(3, data.ClassCount);
        // Without noise, arm c point i lies at radius i / 99 and angle 4c + 4r.
        double r = 50 / 99.0, theta = 4 * 1 + 4 * r;
        Assert.Equal(r * Math.Sin(theta), data.Features[150, 0], 12);
        Assert.Equal(r * Math.Cos(theta), data.Features[150, 1], 12);
        Assert.Equal(1, data.Labels[150]);
        for (int i = 0; i < data.Count; i++)
        {
            double radius = Math.Sqrt(data.Features[i, 0] * data.Features[i, 0] + data.Features[i, 1] * data.Features[i, 1]);
            Assert.InRange(radius, 0, 1 + 1e-12);
        }
    }

    [Fact]
    public void Blobs_AreSeededAndClustered()
    {
        var a = SyntheticData.Blobs<double>(50, 4, 3, seed: 2);
        var b = SyntheticData.Blobs<double>(50, 4, 3, seed: 2);
        Assert.Equal(a.Features.Span.ToArray(), b.Features.Span.ToArray());
        Assert.Equal(200, a.Count);
        Assert.Equal(3, a.FeatureCount);
        Assert.Throws<ArgumentOutOfRangeException>(() => SyntheticData.Blobs<double>(10, 1));
        Assert.Throws<ArgumentOutOfRangeException>(() => SyntheticData.Blobs<double>(10, 3, spread: 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => SyntheticData.Spiral<double>(1));
    }
}
