using NeuralBasics.Data;

namespace NeuralBasics.Tests.Data;

public class PreparationTests
{
    [Fact]
    public void Standardizer_HandValues()
    {
        // Column 0: 1, 2, 3 → μ 2, σ √(2/3); column 1 is constant → σ 1.
        var x = Matrix<double>.FromArray(new double[,] { { 1, 5 }, { 2, 5 }, { 3, 5 } });
        var s = Standardizer.Fit(x);
        Assert.Equal(new[] { 2.0, 5.0 }, s.Means);
        Assert.Equal(Math.Sqrt(2.0 / 3), s.Scales[0], 15);
        Assert.Equal(1.0, s.Scales[1]);
        var t = s.Transform(x);
        Assert.Equal(-Math.Sqrt(1.5), t[0, 0], 14);
        Assert.Equal(0, t[1, 0]);
        Assert.Equal(Math.Sqrt(1.5), t[2, 0], 14);
        Assert.All(new[] { t[0, 1], t[1, 1], t[2, 1] }, v => Assert.Equal(0, v));
        Assert.Equal(1, x[0, 0]); // the input is left alone

        // Applied to other data with the training statistics.
        var other = s.Transform(Matrix<double>.FromArray(new double[,] { { 4, 6 } }));
        Assert.Equal(2 / Math.Sqrt(2.0 / 3), other[0, 0], 14);
        Assert.Equal(1, other[0, 1]);
    }

    [Fact]
    public void Standardizer_RejectsWrongWidthAndBadStatistics()
    {
        var s = Standardizer.Fit(new Matrix<float>(3, 2));
        var e = Assert.Throws<ArgumentException>(() => s.Transform(new Matrix<float>(1, 3)));
        Assert.Contains("2 features", e.Message);
        Assert.Throws<ArgumentException>(() => new Standardizer([0.0], [0.0]));
        Assert.Throws<ArgumentException>(() => new Standardizer([double.NaN], [1.0]));
        Assert.Throws<ArgumentException>(() => Standardizer.Fit(new Matrix<float>(0, 2)));
    }

    [Fact]
    public void StratifiedSplit_KeepsClassProportions_AndIsSeeded()
    {
        // 60 of class 0, 30 of class 1, 10 of class 2.
        var labels = Enumerable.Range(0, 100).Select(i => i < 60 ? 0 : i < 90 ? 1 : 2).ToArray();
        var x = new Matrix<double>(100, 1);
        for (int i = 0; i < 100; i++)
            x[i, 0] = i;
        var data = new DataSet<double>(x, labels, 3);
        var (train, validation) = DataSplit.Stratified(data, 0.2, seed: 5);
        Assert.Equal(80, train.Count);
        Assert.Equal(20, validation.Count);
        Assert.Equal(12, validation.Labels.ToArray().Count(l => l == 0));
        Assert.Equal(6, validation.Labels.ToArray().Count(l => l == 1));
        Assert.Equal(2, validation.Labels.ToArray().Count(l => l == 2));
        // Every sample lands in exactly one part.
        var all = train.Features.Span.ToArray().Concat(validation.Features.Span.ToArray()).OrderBy(v => v).ToArray();
        Assert.Equal(Enumerable.Range(0, 100).Select(i => (double)i), all);

        var again = DataSplit.Stratified(data, 0.2, seed: 5).Validation;
        Assert.Equal(validation.Features.Span.ToArray(), again.Features.Span.ToArray());
        var different = DataSplit.Stratified(data, 0.2, seed: 6).Validation;
        Assert.NotEqual(validation.Features.Span.ToArray(), different.Features.Span.ToArray());

        Assert.Throws<ArgumentOutOfRangeException>(() => DataSplit.Stratified(data, 1.0));
        Assert.Throws<ArgumentOutOfRangeException>(() => DataSplit.Stratified(data, 0));
    }
}
