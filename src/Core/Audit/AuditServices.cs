using Microsoft.Extensions.DependencyInjection;

namespace AgentCrm.Core.Audit;

// TEMPORARY until the audit log lands in this session: replaced by the real registration.
public static class AuditServices
{
    public static IServiceCollection AddAudit(this IServiceCollection services)
    {
        services.AddSingleton<IAuditLog, DiscardingAuditLog>();
        return services;
    }

    private sealed class DiscardingAuditLog : IAuditLog
    {
        public Task AppendAsync(AuditEvent entry, CancellationToken cancellationToken) => Task.CompletedTask;
    }
}
