using AgentCrm.Functions.HostFunctions;

namespace AgentCrm.Functions.CustomHandler;

/// <summary>
/// Every non-HTTP function the app has: the one source of truth for the endpoints the app maps and the
/// function.json files a publish ships.
/// </summary>
public static class HostFunctionCatalog
{
    public static IReadOnlyList<HostFunctionDefinition> All { get; } =
    [
        MaintenanceFunction.Definition,
    ];

    public static IServiceCollection AddHostFunctions(this IServiceCollection services)
    {
        foreach (var definition in All)
        {
            services.AddSingleton(definition.HandlerType);
        }

        return services;
    }
}
