using System.Text.Json;
using NeuralBasics.Activations;
using NeuralBasics.Diagnostics;
using NeuralBasics.Layers;
using NeuralBasics.Losses;
using NeuralBasics.Models;
using NeuralBasics.Optimizers;
using NeuralBasics.Training;
using NeuralBasics.Training.Distributed;
using NeuralBasics.Data;

namespace NeuralBasics.Tests.Layers;

[Collection(AllocationCollection.Name)] // one test changes the process-wide thread setting and measures allocations
public class ConvolutionTests
{
    /// <summary>The cases of TestData/conv-reference.json, computed by PyTorch (conv_reference.py beside it).</summary>
    public static TheoryData<string> Cases()
    {
        var data = new TheoryData<string>();
        foreach (var c in Reference().RootElement.GetProperty("cases").EnumerateArray())
            data.Add(c.GetProperty("name").GetString()!);
        return data;
    }

    private static JsonDocument Reference() =>
        JsonDocument.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "TestData", "conv-reference.json")));

    private static Matrix<double> Rows(JsonElement rows)
    {
        var list = rows.EnumerateArray().Select(r => r.EnumerateArray().Select(v => v.GetDouble()).ToArray()).ToArray();
        var m = new Matrix<double>(list.Length, list[0].Length);
        for (int i = 0; i < list.Length; i++)
            list[i].CopyTo(m.Row(i));
        return m;
    }

    private static double[] Flat(JsonElement values) =>
        values.ValueKind == JsonValueKind.Array && values[0].ValueKind == JsonValueKind.Array
            ? [.. values.EnumerateArray().SelectMany(r => r.EnumerateArray().Select(v => v.GetDouble()))]
            : [.. values.EnumerateArray().Select(v => v.GetDouble())];

    private static void Close(double[] expected, ReadOnlySpan<double> actual, string what)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
            Assert.True(Math.Abs(expected[i] - actual[i]) <= 1e-12 * (1 + Math.Abs(expected[i])), $"{what}[{i}]: {actual[i]} against PyTorch's {expected[i]}");
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void ForwardAndBackward_MatchPyTorch(string name)
    {
        using var reference = Reference();
        var c = reference.RootElement.GetProperty("cases").EnumerateArray().Single(e => e.GetProperty("name").GetString() == name);
        int Int(string key) => c.GetProperty(key).GetInt32();
        var shape = new ImageShape(Int("channels"), Int("height"), Int("width"));
        ILayer<double> layer;
        if (c.GetProperty("kind").GetString() == "conv2d")
        {
            var conv = new Conv2D<double>(shape, Int("filters"), Int("kernel"), Int("stride"), Int("padding"), WeightInit.Gaussian(1));
            Flat(c.GetProperty("weights")).CopyTo(conv.Weights.Value.Span);
            Flat(c.GetProperty("bias")).CopyTo(conv.Biases.Value.Span);
            Assert.Equal((Int("filters"), Int("outHeight"), Int("outWidth")), (conv.OutputShape.Channels, conv.OutputShape.Height, conv.OutputShape.Width));
            layer = conv;
        }
        else
        {
            var pool = new MaxPool2D<double>(shape, Int("size"));
            Assert.Equal((Int("outHeight"), Int("outWidth")), (pool.OutputShape.Height, pool.OutputShape.Width));
            layer = pool;
        }
        var x = Rows(c.GetProperty("input"));
        var y = new Matrix<double>(x.Rows, layer.OutputCount);
        layer.Forward(x, y);
        Close(Flat(c.GetProperty("output")), y.Span, "output");

        var dx = new Matrix<double>(x.Rows, x.Columns);
        dx.Span.Fill(double.NaN);   // every value must be written
        layer.Backward(x, y, Rows(c.GetProperty("outputGradient")), dx);
        Close(Flat(c.GetProperty("inputGradient")), dx.Span, "input gradient");
        if (layer is Conv2D<double> convolution)
        {
            Close(Flat(c.GetProperty("weightsGradient")), convolution.Weights.Gradient.Span, "weight gradient");
            Close(Flat(c.GetProperty("biasGradient")), convolution.Biases.Gradient.Span, "bias gradient");
        }
    }

    [Theory]
    [InlineData(1, 1, 0)]   // stride 1, no padding
    [InlineData(2, 1, 1)]   // stride 2, padding 1
    [InlineData(1, 2, 1)]   // batch of one
    public void ASmallConvolutionalNetwork_PassesTheGradientChecker(int stride, int batch, int padding)
    {
        // Odd sizes, two channels in, pooling that drops a row and a column, every layer kind.
        var net = new NetworkBuilder<double>(new ImageShape(2, 7, 9), seed: 3)
            .Conv2D(3, 3, padding, new Tanh(), stride).MaxPool2D(2).Conv2D(4, 2, 1, new Relu()).Flatten().Dense(3).Build();
        var x = TestData.Uniform<double>(batch == 1 ? 1 : 4, net.InputCount, seed: 5);
        int[] y = [.. Enumerable.Range(0, x.Rows).Select(i => i % 3)];
        double Objective()
        {
            var s = new Matrix<double>(x.Rows, 3);
            net.Clone().Forward(x, s);
            return SoftmaxCrossEntropyLoss.Instance.Compute<double>(s, y, default);
        }
        var trained = net.Clone();
        var scores = new Matrix<double>(x.Rows, 3);
        var dScores = new Matrix<double>(x.Rows, 3);
        trained.Forward(x, scores);
        SoftmaxCrossEntropyLoss.Instance.Compute<double>(scores, y, dScores);
        trained.Backward(x, dScores, default);
        for (int k = 0; k < net.Parameters.Count; k++)
        {
            var result = GradientCheck.Check(Objective, net.Parameters[k].Value.Memory, trained.Parameters[k].Gradient.Span, step: 1e-6, sampleSize: 40, seed: k);
            Assert.True(result.MaxRelativeError < 1e-6, $"{net.Parameters[k].Name}: {result}");
        }
    }

    [Fact]
    public void TheBuilder_CarriesTheImageShape_AndRefusesWhatDoesNotFit()
    {
        var builder = new NetworkBuilder<float>(new ImageShape(1, 28, 28), seed: 1).Conv2D(8, 3, padding: 1, new Relu());
        Assert.Equal(new ImageShape(8, 28, 28), builder.Image);
        builder.MaxPool2D(2).Conv2D(16, 3, stride: 2);
        Assert.Equal(new ImageShape(16, 6, 6), builder.Image);   // (14 - 3) / 2 + 1
        builder.Flatten();
        Assert.Null(builder.Image);
        var net = builder.Dense(10).Build();
        Assert.Equal(784, net.InputCount);
        Assert.Equal(16 * 6 * 6, net.Parameters.Single(p => p.Name == "4.W").Value.Rows);

        Assert.Throws<InvalidOperationException>(() => new NetworkBuilder<float>(784).Conv2D(8, 3));
        Assert.Throws<InvalidOperationException>(() => new NetworkBuilder<float>(new ImageShape(1, 4, 4)).Dense(5).MaxPool2D(2));
        Assert.Throws<ArgumentOutOfRangeException>(() => new NetworkBuilder<float>(new ImageShape(1, 4, 4)).Conv2D(2, 7));
        Assert.Throws<ArgumentOutOfRangeException>(() => new NetworkBuilder<float>(new ImageShape(1, 4, 4)).MaxPool2D(5));
        Assert.Throws<ArgumentOutOfRangeException>(() => new NetworkBuilder<float>(new ImageShape(0, 4, 4)));
        Assert.Throws<ArgumentOutOfRangeException>(() => new NetworkBuilder<float>(new ImageShape(1, 4, 4)).Conv2D(2, 3, padding: -1));
    }

    [Fact]
    public void AConvolutionalModel_SavesAndLoads_WithTheSameScores_AndTheWarmPassAllocatesNothing()
    {
        var net = new NetworkBuilder<float>(new ImageShape(1, 12, 10), seed: 2)
            .Conv2D(4, 3, padding: 1, new Relu()).MaxPool2D(2).Conv2D(6, 3, activation: new Relu()).Dense(3).Build();
        var model = new Classifier<float>(net, SoftmaxCrossEntropyLoss.Instance);
        var x = TestData.Uniform<float>(5, 120, seed: 7);
        var before = model.Scores(x);

        using var file = new MemoryStream();
        model.Save(file);
        file.Position = 0;
        var loaded = Classifier<float>.Load(file);
        Assert.Equal(before.Span.ToArray(), loaded.Scores(x).Span.ToArray());
        var layers = ((Sequential<float>)loaded.CopyScoreFunction()).Layers;
        Assert.Equal(new ImageShape(6, 4, 3), layers.OfType<Conv2D<float>>().Last().OutputShape);
        Assert.Single(layers.OfType<MaxPool2D<float>>());

        // Forward and backward once the buffers have grown: nothing allocated (products on this thread).
        var scores = new Matrix<float>(5, 3);
        var grads = new Matrix<float>(5, 3);
        WarmPassAllocatesNothing(() =>
        {
            net.Forward(x, scores);
            net.Backward(x, grads, default);
        });
    }

    /// <summary>
    /// Runs <paramref name="pass"/> on this thread alone (products included) once for its buffers to
    /// grow, then asserts that a warm pass allocates nothing: the least of three, as
    /// <c>AllocationTests</c> takes them — an allocation of the pass shows in every one, while a
    /// one-off of the runtime's does not (once, in a full test run, 7,152 bytes landed in one pass
    /// that allocates nothing alone, five runs of this class out of five).
    /// </summary>
    private static void WarmPassAllocatesNothing(Action pass)
    {
        int threads = NeuralBasics.Kernels.Gemm.DefaultMaxDegreeOfParallelism;
        NeuralBasics.Kernels.Gemm.DefaultMaxDegreeOfParallelism = 1;
        try
        {
            pass();
            long least = Enumerable.Range(0, 3).Min(_ =>
            {
                long before = GC.GetAllocatedBytesForCurrentThread();
                pass();
                return GC.GetAllocatedBytesForCurrentThread() - before;
            });
            Assert.Equal(0, least);
        }
        finally
        {
            NeuralBasics.Kernels.Gemm.DefaultMaxDegreeOfParallelism = threads;
        }
    }

    [Theory]
    [InlineData(1)]
    [InlineData(9)]    // vectors of channels and a remainder
    public void MaxPooling_SendsATiesGradientToTheFirstInReadingOrder_AndANaNWins(int channels)
    {
        // One 2x2 block per channel: channel c holds (c, c, c, c) with a NaN in the last channel's third pixel.
        var pool = new MaxPool2D<double>(new ImageShape(channels, 2, 2), 2);
        var x = new Matrix<double>(1, 4 * channels);
        for (int pixel = 0; pixel < 4; pixel++)
            for (int c = 0; c < channels; c++)
                x[0, pixel * channels + c] = c == channels - 1 && pixel == 2 ? double.NaN : c;
        var y = new Matrix<double>(1, channels);
        pool.Forward(x, y);
        var dy = new Matrix<double>(1, channels);
        for (int c = 0; c < channels; c++)
            dy[0, c] = 10 + c;
        var dx = new Matrix<double>(1, 4 * channels);
        pool.Backward(x, y, dy, dx);
        for (int c = 0; c < channels; c++)
        {
            bool nan = c == channels - 1;
            Assert.Equal(nan ? double.NaN : c, y[0, c]);
            // The gradient: all to pixel 0 (the first of four equal values), or to the NaN.
            for (int pixel = 0; pixel < 4; pixel++)
                Assert.Equal(pixel == (nan ? 2 : 0) ? 10 + c : 0, dx[0, pixel * channels + c]);
        }
    }

    /// <summary>
    /// A batch convolved a chunk of images at a time, and its weight gradient's patches made again a
    /// block of rows at a time, gives the bits of the whole batch at once: a narrow product (5
    /// filters, stride 2) and a blocked one (40 filters over 36 taps, 1,440 rows: six K slices, in
    /// blocks of one slice against all six).
    /// </summary>
    [Theory]
    [InlineData(3, 9, 8, 5, 2, 1, 7)]
    [InlineData(4, 9, 8, 40, 1, 1, 20)]    // a weight gradient read from the padded images (12 taps a kernel row)
    [InlineData(8, 9, 7, 40, 2, 0, 6)]     // the same at stride 2, no padding
    [InlineData(4, 7, 8, 40, 1, 2, 5)]     // padding 2
    public void ABatchInChunks_GivesTheSameOutputAndGradients(int channels, int height, int width, int filters, int stride, int padding, int images)
    {
        var shape = new ImageShape(channels, height, width);
        var whole = new Conv2D<double>(shape, filters, 3, stride, padding, WeightInit.He, seed: 4);
        var chunked = whole.Clone();
        chunked.ChunkValues = 3 * (int)whole.PatchValuesPerImage;   // three images' patches per chunk
        var x = TestData.Uniform<double>(images, shape.Count, seed: 8);
        var dy = TestData.Uniform<double>(images, whole.OutputCount, seed: 9);
        var results = new[] { whole, chunked }.Select(layer =>
        {
            var y = new Matrix<double>(images, layer.OutputCount);
            var dx = new Matrix<double>(images, shape.Count);
            layer.Forward(x, y);
            layer.Backward(x, y, dy, dx);
            return (Y: y.Span.ToArray(), Dx: dx.Span.ToArray(), Dw: layer.Weights.Gradient.Span.ToArray(), Db: layer.Biases.Gradient.Span.ToArray());
        }).ToArray();
        Assert.Equal(results[0].Y, results[1].Y);
        Assert.Equal(results[0].Dx, results[1].Dx);
        Assert.Equal(results[0].Db, results[1].Db);
        Assert.Equal(results[0].Dw, results[1].Dw);
        // And the weight gradient is X̂ᵀ·dY over the whole X̂, made here from the forward pass's own patches.
        var patches = Patches(whole, x);
        var expected = new Matrix<double>(whole.Weights.Value.Rows, filters);
        NeuralBasics.Kernels.Gemm.MultiplyTransposeA(patches.AsReadOnlySpan(), new ReadOnlyMatrixSpan<double>(dy.Span, images * whole.OutputShape.Height * whole.OutputShape.Width, filters), expected.AsSpan());
        Assert.Equal(expected.Span.ToArray(), results[1].Dw);
    }

    /// <summary>
    /// The input gradient is dX̂ = dY·Wᵀ with each row added back over its receptive field, every
    /// input value taking its shares in pixel order (output row, then column) and the padding's
    /// dropped: checked bit for bit against that loop written out value by value, at strides 1 and
    /// 2, with channels in whole vectors, with a remainder and without a vector, paddings 0 to 2 and
    /// 1x1 to 5x5 kernels. Pinned before changing how the layer adds them back.
    /// </summary>
    [Theory]
    [InlineData(false, 32, 9, 7, 3, 1, 1, 3)]   // whole vectors of channels (AVX-512: two)
    [InlineData(false, 20, 6, 6, 3, 0, 1, 2)]   // a vector and a remainder, no padding
    [InlineData(true, 3, 8, 5, 5, 2, 1, 2)]     // double, 5x5 over 3 channels, padding 2
    [InlineData(false, 1, 7, 9, 1, 0, 1, 1)]    // 1x1, one channel
    [InlineData(true, 5, 4, 4, 3, 2, 1, 1)]     // padding 2 on a 3x3 kernel: border pixels see only padding on one side
    [InlineData(false, 4, 9, 8, 3, 1, 2, 2)]    // stride 2
    public void TheInputGradient_AddsEachPixelsSharesInPixelOrder(bool inDouble, int channels, int height, int width, int kernel, int padding, int stride, int images)
    {
        if (inDouble)
            InputGradientInPixelOrder<double>(channels, height, width, kernel, padding, stride, images);
        else
            InputGradientInPixelOrder<float>(channels, height, width, kernel, padding, stride, images);
    }

    private static void InputGradientInPixelOrder<T>(int channels, int height, int width, int kernel, int padding, int stride, int images)
        where T : unmanaged, System.Numerics.IFloatingPointIeee754<T>
    {
        var shape = new ImageShape(channels, height, width);
        var layer = new Conv2D<T>(shape, 16, kernel, stride, padding, WeightInit.He, seed: 5);
        var x = TestData.Uniform<T>(images, shape.Count, seed: 6);
        var dy = TestData.Uniform<T>(images, layer.OutputCount, seed: 7);
        var y = new Matrix<T>(images, layer.OutputCount);
        var dx = new Matrix<T>(images, shape.Count);
        layer.Forward(x, y);
        layer.Backward(x, y, dy, dx);

        int outH = layer.OutputShape.Height, outW = layer.OutputShape.Width, taps = kernel * kernel * channels;
        var dxHat = new Matrix<T>(images * outH * outW, taps);
        NeuralBasics.Kernels.Gemm.MultiplyTransposeB(new ReadOnlyMatrixSpan<T>(dy.Span, images * outH * outW, 16), layer.Weights.Value.AsReadOnlySpan(), dxHat.AsSpan());
        var expected = new T[images * shape.Count];
        int row = 0;
        for (int n = 0; n < images; n++)
            for (int oy = 0; oy < outH; oy++)
                for (int ox = 0; ox < outW; ox++, row++)
                    for (int ky = 0; ky < kernel; ky++)
                        for (int kx = 0; kx < kernel; kx++)
                        {
                            int iy = oy * stride - padding + ky, ix = ox * stride - padding + kx;
                            if (iy < 0 || iy >= height || ix < 0 || ix >= width)
                                continue;
                            for (int c = 0; c < channels; c++)
                                expected[n * shape.Count + (iy * width + ix) * channels + c] += dxHat[row, (ky * kernel + kx) * channels + c];
                        }
        Assert.Equal(expected, dx.Span.ToArray());
    }

    /// <summary>
    /// Layers whose weight gradient goes through the blocked product, read from the padded images
    /// (4 channels: 12 taps a kernel row, whole tiles) or with its patches made in several blocks
    /// (3 channels: 9 taps a row): a warm pass allocates nothing, a full batch followed by an
    /// epoch's shorter last one included.
    /// </summary>
    [Theory]
    [InlineData(4)]
    [InlineData(3)]
    public void AConvolutionsWeightGradient_ReadFromThePaddedImagesOrMadeInBlocks_AllocatesNothingOnceWarm(int channels)
    {
        var shape = new ImageShape(channels, 9, 8);
        var conv = new Conv2D<float>(shape, 40, 3, 1, 1, WeightInit.He, seed: 4);
        conv.ChunkValues = 3 * (int)conv.PatchValuesPerImage;
        var batches = new[] { 20, 13 }.Select(images => (
            X: TestData.Uniform<float>(images, shape.Count, seed: 8),
            Y: new Matrix<float>(images, conv.OutputCount),
            Dy: TestData.Uniform<float>(images, conv.OutputCount, seed: 9),
            Dx: new Matrix<float>(images, shape.Count))).ToArray();
        WarmPassAllocatesNothing(() =>
        {
            foreach (var (x, y, dy, dx) in batches)
            {
                conv.Forward(x, y);
                conv.Backward(x, y, dy, dx);
            }
        });
    }

    /// <summary>X̂ by the definition: row (image, oy, ox), column (ky, kx, channel), the input's value there (channels last) or 0 in the padding.</summary>
    private static Matrix<double> Patches(Conv2D<double> conv, Matrix<double> x)
    {
        var s = conv.InputShape;
        int k = conv.KernelSize, oh = conv.OutputShape.Height, ow = conv.OutputShape.Width;
        var patches = new Matrix<double>(x.Rows * oh * ow, k * k * s.Channels);
        for (int n = 0; n < x.Rows; n++)
            for (int oy = 0; oy < oh; oy++)
                for (int ox = 0; ox < ow; ox++)
                    for (int ky = 0; ky < k; ky++)
                        for (int kx = 0; kx < k; kx++)
                            for (int c = 0; c < s.Channels; c++)
                            {
                                int iy = oy * conv.Stride - conv.Padding + ky, ix = ox * conv.Stride - conv.Padding + kx;
                                bool inside = iy >= 0 && iy < s.Height && ix >= 0 && ix < s.Width;
                                patches[(n * oh + oy) * ow + ox, (ky * k + kx) * s.Channels + c] = inside ? x[n, (iy * s.Width + ix) * s.Channels + c] : 0;
                            }
        return patches;
    }

    [Fact]
    public void TheFusedPasses_ConvolutionWithReLU_AndReLUIntoPooling_GiveTheBitsOfTheLayersApart()
    {
        var net = new NetworkBuilder<double>(new ImageShape(2, 8, 7), seed: 6)
            .Conv2D(9, 3, padding: 1, new Relu()).MaxPool2D(2).Conv2D(4, 3, activation: new Relu()).Dense(3).Build();
        var x = TestData.Uniform<double>(5, net.InputCount, seed: 2);
        var dScores = TestData.Uniform<double>(5, 3, seed: 3);

        // The network: conv+ReLU fused forward, ReLU folded into the pool's backward pass.
        var fused = net.Clone();
        var scores = new Matrix<double>(5, 3);
        var dx = new Matrix<double>(5, net.InputCount);
        fused.Forward(x, scores);
        fused.Backward(x, dScores, dx);

        // The same layers one at a time.
        AssertSameAsLayersApart(net, fused, x, dScores, scores, dx);
        Assert.Contains(dx.Span.ToArray(), v => v != 0);
    }

    /// <summary>
    /// Shapes of the one-pass convolution → ReLU → 2 x 2 max-pooling (few taps, filters a multiple
    /// of the vector's lanes): its values and every gradient against the three layers run apart, bit
    /// for bit, on one row and on a batch the cores split; and a second convolution below it, so the
    /// input gradient through the pass is checked too.
    /// </summary>
    [Theory]
    [InlineData(false, 1, 12, 10, 3, 1, 1, 2, 64)]  // gray images, two vectors of filters a block; a batch the cores split
    [InlineData(false, 3, 10, 8, 3, 0, 1, 3, 1)]    // three channels, no padding, a block of two vectors and one of one; one row
    [InlineData(true, 2, 11, 11, 5, 2, 2, 1, 5)]    // double, 5x5, stride 2, one vector of filters
    [InlineData(true, 1, 8, 8, 1, 0, 1, 2, 3)]      // 1x1 kernel
    [InlineData(false, 3, 10, 8, 3, 1, 1, 1, 64)]   // 27 taps in blocks, one vector of filters, a deep weight gradient in slices
    [InlineData(true, 1, 12, 10, 3, 1, 1, 3, 40)]   // double, three vectors of filters, a deep weight gradient in slices
    [InlineData(false, 8, 8, 8, 3, 1, 1, 2, 20)]    // 72 taps: through the GEMM, pooled a chunk at a time
    [InlineData(true, 16, 6, 6, 3, 0, 1, 1, 3)]     // 144 taps in double, no padding
    public void TheConvolutionReluPoolingPass_GivesTheBitsOfTheLayersApart(bool inDouble, int channels, int height, int width, int kernel, int padding,
        int stride, int vectorsOfFilters, int batch)
    {
        if (inDouble)
            PooledPassMatchesLayers<double>(channels, height, width, kernel, padding, stride, vectorsOfFilters, batch);
        else
            PooledPassMatchesLayers<float>(channels, height, width, kernel, padding, stride, vectorsOfFilters, batch);
    }

    /// <summary>
    /// NaNs and infinities through the pooled pass: the one-pass kernel and the GEMM path take the
    /// processor's own maximum and fall back to the IEEE one only in blocks with a NaN, so these are
    /// the cases that tell them apart. The pooled values against the three layers apart, bit for bit
    /// (any NaN for a NaN); every gradient of a network around it as equal as the layers apart give.
    /// </summary>
    [Theory]
    [InlineData(false, 1)]   // gray: the one-pass kernel
    [InlineData(true, 1)]
    [InlineData(false, 8)]   // 72 taps: through the GEMM, pooled a chunk at a time
    public void ThePooledPass_GivesTheLayersApartsNaNsAndInfinities(bool inDouble, int channels)
    {
        if (inDouble)
            PooledPassKeepsSpecialValues<double>(channels);
        else
            PooledPassKeepsSpecialValues<float>(channels);
    }

    private static void PooledPassKeepsSpecialValues<T>(int channels)
        where T : unmanaged, System.Numerics.IFloatingPointIeee754<T>
    {
        int filters = 2 * NeuralBasics.Kernels.ConvReluPool<T>.Lanes, batch = 6;
        var net = new NetworkBuilder<T>(new ImageShape(channels, 8, 8), seed: 4)
            .Conv2D(filters, 3, padding: 1, new Relu()).MaxPool2D(2).Dense(3).Build();
        Assert.True(net.RunsPooled(0));
        var x = TestData.Uniform<T>(batch, net.InputCount, seed: 2);
        int pixel = (3 * 8 + 4) * channels;
        x[0, pixel] = T.NaN;                                        // a NaN in every block that sees it
        x[1, pixel] = T.PositiveInfinity;                           // ±∞ by the weights' signs
        x[2, pixel] = T.PositiveInfinity;                           // ∞ − ∞: NaNs made in the sums
        x[2, pixel + channels] = T.NegativeInfinity;
        x[3, pixel] = T.CreateChecked(1e300);                       // sums that overflow (float: ∞ at once)
        x[3, pixel + 8 * channels] = -T.CreateChecked(1e300);
        var conv = (Conv2D<T>)net.Layers[0];
        conv.ChunkValues = 2 * (int)conv.PatchValuesPerImage;

        var pooled = new Matrix<T>(batch, conv.OutputCount / 4);
        conv.ForwardPooled(x, pooled);
        var z = new Matrix<T>(batch, conv.OutputCount);
        conv.Forward(x, z);
        var relu = new Matrix<T>(batch, conv.OutputCount);
        new Relu().Forward<T>(z.Span, relu.Span);
        var expected = new Matrix<T>(batch, conv.OutputCount / 4);
        ((MaxPool2D<T>)net.Layers[2]).Forward(relu, expected);
        for (int i = 0; i < expected.Span.Length; i++)
        {
            T e = expected.Span[i], a = pooled.Span[i];
            Assert.True(T.IsNaN(e) ? T.IsNaN(a) : BitsOf(e) == BitsOf(a), $"pooled value {i}: {a}, the layers apart {e}");
        }
        // Not vacuous: NaNs, infinities and plain values among them.
        Assert.Contains(expected.Span.ToArray(), T.IsNaN);
        Assert.Contains(expected.Span.ToArray(), T.IsPositiveInfinity);
        Assert.Contains(expected.Span.ToArray(), v => T.IsFinite(v) && v > T.Zero);

        var dScores = TestData.Uniform<T>(batch, 3, seed: 3);
        var fused = net.Clone();
        var scores = new Matrix<T>(batch, 3);
        var dx = new Matrix<T>(batch, net.InputCount);
        fused.Forward(x, scores);
        fused.Backward(x, dScores, dx);
        AssertSameAsLayersApart(net, fused, x, dScores, scores, dx);
    }

    /// <summary>
    /// <paramref name="net"/>'s layers run one at a time on <paramref name="x"/> (<see cref="Portable.PortableChecks.LayersApart"/>):
    /// the scores, input gradient and every parameter's gradient that <paramref name="fused"/> (a clone of it, run forward
    /// and backward) gave, bit for bit (a NaN for a NaN). Returns the layers' outputs.
    /// </summary>
    private static List<Matrix<T>> AssertSameAsLayersApart<T>(Sequential<T> net, Sequential<T> fused, Matrix<T> x, Matrix<T> dScores,
        Matrix<T> scores, Matrix<T> dx)
        where T : unmanaged, System.Numerics.IFloatingPointIeee754<T>
    {
        var layers = net.Clone().Layers;
        var (outputs, gradient) = Portable.PortableChecks.LayersApart(layers, x, dScores);
        Assert.Equal(outputs[^1].Span.ToArray(), scores.Span.ToArray());
        Assert.Equal(gradient.Span.ToArray(), dx.Span.ToArray());
        var apart = layers.SelectMany(l => l.Parameters).ToArray();
        for (int k = 0; k < apart.Length; k++)
            Assert.Equal(apart[k].Gradient.Span.ToArray(), fused.Parameters[k].Gradient.Span.ToArray());
        return outputs;
    }

    private static ulong BitsOf<T>(T value)
        where T : unmanaged =>
        typeof(T) == typeof(float) ? BitConverter.SingleToUInt32Bits((float)(object)value) : BitConverter.DoubleToUInt64Bits((double)(object)value);

    private static void PooledPassMatchesLayers<T>(int channels, int height, int width, int kernel, int padding, int stride, int vectorsOfFilters, int batch)
        where T : unmanaged, System.Numerics.IFloatingPointIeee754<T>
    {
        Assert.True(NeuralBasics.Kernels.ConvReluPool<T>.IsSupported, "the one-pass kernel runs on every vector width");
        int filters = vectorsOfFilters * NeuralBasics.Kernels.ConvReluPool<T>.Lanes;
        // A convolution in front (its ReLU fused, no pooling) gives the pass an input and needs its input gradient.
        var net = new NetworkBuilder<T>(new ImageShape(channels, height + 2, width + 2), seed: 4)
            .Conv2D(channels, 3, activation: new Relu())
            .Conv2D(filters, kernel, padding, new Relu(), stride).MaxPool2D(2).Dense(3).Build();
        Assert.True(net.RunsPooled(2), "the second convolution, its ReLU and the pooling run as one pass");
        Assert.False(net.RunsPooled(0));
        var x = TestData.Uniform<T>(batch, net.InputCount, seed: 2);
        // Negative biases, so that some blocks are all zero after the ReLU and pass no gradient.
        var biases = ((Conv2D<T>)net.Layers[2]).Biases.Value.Span;
        for (int i = 0; i < biases.Length; i++)
            biases[i] = T.CreateChecked(i % 3 == 0 ? -0.3 : 0.05);
        var dScores = TestData.Uniform<T>(batch, 3, seed: 3);

        var fused = net.Clone();
        // Two images a chunk where the pass goes through the GEMM: several chunks, each pooled on its own.
        var conv = (Conv2D<T>)fused.Layers[2];
        conv.ChunkValues = 2 * (int)conv.PatchValuesPerImage;
        var scores = new Matrix<T>(batch, 3);
        var dx = new Matrix<T>(batch, net.InputCount);
        fused.Forward(x, scores);
        fused.Backward(x, dScores, dx);
        // Again, warm, on this thread: the same scores and gradients, and nothing allocated.
        var again = new Matrix<T>(batch, 3);
        var dxAgain = new Matrix<T>(batch, net.InputCount);
        WarmPassAllocatesNothing(() =>
        {
            fused.Forward(x, again);
            fused.Backward(x, dScores, dxAgain);
        });
        Assert.Equal(scores.Span.ToArray(), again.Span.ToArray());
        Assert.Equal(dx.Span.ToArray(), dxAgain.Span.ToArray());

        var outputs = AssertSameAsLayersApart(net, fused, x, dScores, scores, dx);
        // On one core (the bias gradient then rides along the weight gradient's slices, in order): the same bits.
        int threads = NeuralBasics.Kernels.Gemm.DefaultMaxDegreeOfParallelism;
        NeuralBasics.Kernels.Gemm.DefaultMaxDegreeOfParallelism = 1;
        try
        {
            var oneCore = net.Clone();
            ((Conv2D<T>)oneCore.Layers[2]).ChunkValues = conv.ChunkValues;
            var scoresOne = new Matrix<T>(batch, 3);
            var dxOne = new Matrix<T>(batch, net.InputCount);
            oneCore.Forward(x, scoresOne);
            oneCore.Backward(x, dScores, dxOne);
            AssertSameAsLayersApart(net, oneCore, x, dScores, scoresOne, dxOne);
        }
        finally
        {
            NeuralBasics.Kernels.Gemm.DefaultMaxDegreeOfParallelism = threads;
        }
        // The checks are not vacuous: some pooled values are zero (no gradient), most are not, and gradients flow.
        var pooled = outputs[4].Span.ToArray();
        Assert.Contains(pooled, v => v == T.Zero);
        Assert.Contains(pooled, v => v > T.Zero);
        Assert.Contains(dx.Span.ToArray(), v => v != T.Zero);
    }

    private static DataSet<float> Images(int rows, int seed)
    {
        // 8x8 gray images of three classes: a bright row, a bright column, or a bright diagonal, with noise.
        var random = new Random(seed);
        var x = new Matrix<float>(rows, 64);
        var labels = new int[rows];
        for (int i = 0; i < rows; i++)
        {
            labels[i] = i % 3;
            int at = random.Next(8);
            for (int p = 0; p < 64; p++)
            {
                int y = p / 8, c = p % 8;
                bool on = labels[i] switch { 0 => y == at, 1 => c == at, _ => y == c };
                x[i, p] = (on ? 1f : 0f) + 0.3f * (float)(random.NextDouble() - 0.5);
            }
        }
        return new DataSet<float>(x, labels, 3);
    }

    private static Sequential<float> SmallCnn(int seed) =>
        new NetworkBuilder<float>(new ImageShape(1, 8, 8), seed: seed).Conv2D(4, 3, padding: 1, new Relu()).MaxPool2D(2).Dense(3).Build();

    [Fact]
    public void ACnn_ResumesFromACheckpointBitForBit_TrainsOnTwoWorkersAsOnOne_AndLearns()
    {
        var data = Images(96, seed: 1);
        string folder = Directory.CreateTempSubdirectory("neuralbasics-cnn-").FullName;
        try
        {
            TrainerOptions Options(int epochs, string? checkpoint = null, int workers = 1) =>
                new() { Epochs = epochs, BatchSize = 16, Seed = 3, CheckpointPath = checkpoint, Workers = workers };
            static float[] Weights(IScoreFunction<float> s) => [.. s.Parameters.SelectMany(p => p.Value.Span.ToArray())];

            var straight = SmallCnn(2);
            var result = new Trainer<float>(straight, SoftmaxCrossEntropyLoss.Instance, null, new Adam(0.02), Options(6)).Train(data);
            Assert.True(result.Model.Accuracy(data) > 0.9, $"{result.Model.Accuracy(data):P1}");

            string path = Path.Combine(folder, "cnn.ckpt");
            new Trainer<float>(SmallCnn(2), SoftmaxCrossEntropyLoss.Instance, null, new Adam(0.02), Options(3, path)).Train(data);
            var resumed = SmallCnn(9);
            new Trainer<float>(resumed, SoftmaxCrossEntropyLoss.Instance, null, new Adam(0.02), Options(6)).Resume(path, data);
            Assert.Equal(Weights(straight), Weights(resumed));

            // Synchronous workers on shards of each batch: the same model up to the order of the sums.
            var shared = SmallCnn(2);
            new Trainer<float>(shared, SoftmaxCrossEntropyLoss.Instance, null, new Adam(0.02), Options(6, workers: 2)).Train(data);
            Assert.All(Weights(straight).Zip(Weights(shared)), p => Assert.Equal(p.First, p.Second, 1e-3f));
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }
    /// <summary>
    /// A network is a network to the distributed trainers: Downpour SGD with the model in two shards
    /// (cut inside the convolution's weights) is, with one worker, the one-shard run bit for bit;
    /// with two workers it learns the stripes, and so does elastic averaging with two. Two workers
    /// run as threads, so their figures vary from run to run (after 6 and 12 epochs: Downpour
    /// 73–100% in sixteen runs, elastic averaging 78–90% in five); the test gives them 16 epochs
    /// and asks for 75%, against a third by chance.
    /// </summary>
    [Fact]
    public void ACnn_TrainsWithDownpourInShards_AndWithElasticAveraging()
    {
        var data = Images(96, seed: 1);
        static float[] Weights(IScoreFunction<float> s) => [.. s.Parameters.SelectMany(p => p.Value.Span.ToArray())];
        TrainingResult<float> Downpour(int workers, int shards, int epochs) =>
            new DownpourTrainer<float>(SmallCnn(2), SoftmaxCrossEntropyLoss.Instance, null, new Adam(0.02),
                new DownpourOptions { Workers = workers, Shards = shards, Epochs = epochs, BatchSize = 16, Seed = 3 }).Train(data);

        var one = Downpour(1, 1, 6);
        var sharded = Downpour(1, 2, 6);
        Assert.Equal(Weights(one.Model.CopyScoreFunction()), Weights(sharded.Model.CopyScoreFunction()));
        Assert.True(one.Model.Accuracy(data) > 0.9, $"Downpour, one worker: {one.Model.Accuracy(data):P1}");

        var two = Downpour(2, 2, 16);
        Assert.True(two.Model.Accuracy(data) > 0.75, $"Downpour, two workers: {two.Model.Accuracy(data):P1}");

        var elastic = new ElasticAveragingTrainer<float>(SmallCnn(2), SoftmaxCrossEntropyLoss.Instance, null, new Adam(0.02),
            new ElasticAveragingOptions { Workers = 2, Alpha = 0.5, Tau = 1, Epochs = 16, BatchSize = 16, Seed = 3 }).Train(data);
        Assert.True(elastic.Model.Accuracy(data) > 0.75, $"Elastic averaging, two workers: {elastic.Model.Accuracy(data):P1}");
    }
}
