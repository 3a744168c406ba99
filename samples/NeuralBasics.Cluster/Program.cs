using NeuralBasics.Cluster;

// Distributed training on a real Orleans cluster, all on this machine: two silos and two worker
// processes on 127.0.0.1 train the MLP 784-256-10 on Fashion-MNIST (or on the committed
// 3,000-image subset when the full set is not installed) with Downpour, EASGD and synchronous
// all-reduce in turn, beside the same modes as threads of one process.
//
//   dotnet run -c Release --project samples/NeuralBasics.Cluster                 the whole demonstration
//   dotnet run -c Release --project samples/NeuralBasics.Cluster -- silo ...     one silo      (see SiloProcess.cs)
//   dotnet run -c Release --project samples/NeuralBasics.Cluster -- worker ...   one worker    (see WorkerProcess.cs)
//   sudo dotnet run -c Release --project samples/NeuralBasics.Cluster -- scale   N machines on slow links (see Scaling.cs)
//
// The demonstration starts the other two roles as processes of this same program.
try
{
    return args.FirstOrDefault() switch
    {
        "silo" => await SiloProcess.RunAsync(Arguments.Parse(args[1..])),
        "worker" => await WorkerProcess.RunAsync(Arguments.Parse(args[1..])),
        "scale" => await Scaling.RunAsync(Arguments.Parse(args[1..])),
        "-h" or "--help" or "help" => Usage(),
        _ => await Demonstration.RunAsync(Arguments.Parse(args)),
    };
}
catch (ArgumentException e)
{
    Console.Error.WriteLine(e.Message);
    Usage();
    return 2;
}

static int Usage()
{
    Console.Error.WriteLine("""
        usage: NeuralBasics.Cluster [--data FOLDER] [--epochs E] [--plot FILE.png]
               NeuralBasics.Cluster silo --port P --gateway G [--primary PORT] [--cluster-id ID --service-id ID]
                   (across machines: --postgres CONNECTION-STRING [--advertise HOST-IP] instead of --primary)
               NeuralBasics.Cluster worker (--gateways HOST:PORT[,HOST:PORT] | --postgres CONNECTION-STRING) --mode downpour|easgd|sync --run NAME
                   --id K --workers N --model FILE (--data FOLDER --rows START:COUNT | --csv FILE)
                   [--epochs E] [--batch B] [--deadline SECONDS] [--snapshots FOLDER] [--cluster-id ID --service-id ID]
                   [--shards S] [--overlap yes] (downpour) [--reduce grain|scatter|ring] [--round-deadline MS] (sync)
               NeuralBasics.Cluster scale [--machines N] [--link-mbit R] [--rows-per-worker K] [--epochs E] [--data FOLDER] [--only TEXT]
                   (Linux, as root: N machines in network namespaces with R Mbit/s links; see Scaling.cs)
        """);
    return 0;
}
