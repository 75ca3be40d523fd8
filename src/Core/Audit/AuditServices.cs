using AgentCrm.Core.Platform.Hosting;
using AgentCrm.Core.Platform.Maintenance;
using Microsoft.Extensions.DependencyInjection;

namespace AgentCrm.Core.Audit;

/// <summary>Registers the hash-chained audit log, its reader and verifier, and its retention job.</summary>
public static class AuditServices
{
    public static IServiceCollection AddAudit(this IServiceCollection services, AuditOptions options)
    {
        services.AddSingleton(options);
        services.AddSingleton<IAuditLog, PostgresAuditLog>();
        services.AddSingleton<AuditReader>();
        services.AddSingleton<AuditVerifier>();
        services.AddSingleton<IHousekeepingJob, AuditRetentionJob>();
        return services;
    }
}
