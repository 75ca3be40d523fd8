namespace AgentCrm.Core.Audit;

/// <summary>Appends to the hash-chained audit log. An entry is committed before the call returns.</summary>
public interface IAuditLog
{
    Task AppendAsync(AuditEvent entry, CancellationToken cancellationToken);
}
