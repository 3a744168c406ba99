using BenchmarkDotNet.Attributes;
using Microsoft.Extensions.DependencyInjection;
using NeuralBasics.Activations;
using NeuralBasics.Layers;
using NeuralBasics.Orleans;
using Orleans.Serialization;

namespace NeuralBasics.Benchmarks.Cluster;

/// <summary>
/// The serialization part of an exchange, without the network: the MLP's 203,530 floats packed into
/// one block and written by Orleans' serializer, and read back into the replica's buffers.
/// </summary>
public class SerializationBenchmarks
{
    private Serializer _serializer = null!;
    private ReadOnlyMemory<float>[] _tensors = null!;
    private Memory<float>[] _buffers = null!;
    private byte[] _message = null!;

    [GlobalSetup]
    public void Setup()
    {
        _serializer = new ServiceCollection().AddSerializer().BuildServiceProvider().GetRequiredService<Serializer>();
        var net = new NetworkBuilder<float>(784, seed: 1).Dense(256, new Relu()).Dense(10).Build();
        _tensors = [.. net.Parameters.Select(p => (ReadOnlyMemory<float>)p.Value.Memory.ToArray())];
        _buffers = [.. net.Parameters.Select(p => p.Value.Memory)];
        _message = _serializer.SerializeToArray(PackedTensors.Pack(_tensors));
        Console.WriteLine($"// message: {_message.Length:N0} bytes for {_tensors.Sum(t => t.Length) * sizeof(float):N0} bytes of tensors");
    }

    /// <summary>Tensors to a message (what a push or a fetch reply costs its sender).</summary>
    [Benchmark]
    public byte[] PackAndSerialize() => _serializer.SerializeToArray(PackedTensors.Pack(_tensors));

    /// <summary>A message to the replica's buffers (what it costs the receiver).</summary>
    [Benchmark]
    public void DeserializeAndCopy() => _serializer.Deserialize<PackedTensors>(_message)!.CopyTo(_buffers);
}
