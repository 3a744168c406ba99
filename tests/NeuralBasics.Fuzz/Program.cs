using NeuralBasics.Fuzz;
using SharpFuzz;

// Usage (under afl-fuzz, see fuzz.sh): NeuralBasics.Fuzz TARGET   where TARGET is idx, csv, model or checkpoint.
// With a second argument, replays one input file instead: NeuralBasics.Fuzz TARGET FILE
if (args.Length == 0 || !FuzzTargets.Names.Contains(args[0]))
{
    Console.Error.WriteLine($"usage: NeuralBasics.Fuzz {string.Join("|", FuzzTargets.Names)} [input file]");
    return 2;
}
string target = args[0];
if (args.Length > 1)
{
    Console.WriteLine(FuzzTargets.Run(target, File.ReadAllBytes(args[1])) ? "loaded" : "refused");
    return 0;
}
Fuzzer.OutOfProcess.Run(stream =>
{
    using var memory = new MemoryStream();
    stream.CopyTo(memory);
    FuzzTargets.Run(target, memory.ToArray());
});
return 0;
