using Microsoft.Extensions.DependencyInjection;

namespace AgentCrm.Core.Orchestrations;

public static class OrchestrationsServices
{
    public static IServiceCollection AddOrchestrationManagement(this IServiceCollection services) =>
        services.AddSingleton<OrchestrationManagement>().AddSingleton<DeadLetterManagement>();
}
