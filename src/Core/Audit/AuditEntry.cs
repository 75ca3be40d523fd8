using System.Text.Json.Nodes;

namespace AgentCrm.Core.Audit;

/// <summary>
/// One stored audit row, as <c>GET /api/audit</c> returns it. The hashes are hex so a client can recompute
/// the chain on its own (the formula is in 0005_audit.sql).
/// </summary>
public sealed record AuditEntry(
    long Seq,
    Guid Id,
    DateTimeOffset OccurredAt,
    string Event,
    Guid? ActorUserId,
    Guid? ActorKeyId,
    string? Ip,
    string? RequestId,
    JsonObject Details,
    string PrevHash,
    string Hash);

/// <summary>What to list: every filter is optional; <see cref="From"/> is inclusive, <see cref="To"/> exclusive.</summary>
public sealed record AuditFilter(string? Event, Guid? Actor, DateTimeOffset? From, DateTimeOffset? To, long? BeforeSeq, int Limit);

/// <summary>A page, newest first; <see cref="NextCursor"/> is null on the last page.</summary>
public sealed record AuditPage(IReadOnlyList<AuditEntry> Items, string? NextCursor);

/// <summary>The result of recomputing one chain: <see cref="FirstBrokenSeq"/> names the first link that does not hold.</summary>
public sealed record AuditChainStatus(Guid WorkspaceId, bool Valid, long Checked, long? FirstBrokenSeq, string? Reason);
