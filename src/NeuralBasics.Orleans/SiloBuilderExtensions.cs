using Microsoft.Extensions.DependencyInjection;

namespace NeuralBasics.Orleans;

/// <summary>Adds the NeuralBasics grains' settings to a silo.</summary>
public static class SiloBuilderExtensions
{
    /// <summary>
    /// Registers <see cref="NeuralBasicsTrainingOptions"/> (the runs' update rules and persistence) on
    /// this silo. Every silo of the cluster needs the same settings, since a grain may be activated on
    /// any of them, and a grain storage named <see cref="NeuralBasicsTrainingOptions.StorageName"/>.
    /// </summary>
    public static ISiloBuilder AddNeuralBasicsTraining(this ISiloBuilder builder, Action<NeuralBasicsTrainingOptions> configure)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(configure);
        var options = new NeuralBasicsTrainingOptions();
        configure(options);
        builder.Services.AddSingleton(options);
        return builder;
    }
}
