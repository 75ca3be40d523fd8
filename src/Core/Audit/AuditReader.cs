using System.Globalization;
using System.Text.Json.Nodes;
using AgentCrm.Core.Platform.Data;
using AgentCrm.Core.Platform.Problems;

namespace AgentCrm.Core.Audit;

/// <summary>
/// Lists a workspace's audit rows newest first, in a tenant session (RLS shows this workspace's chain only).
/// The cursor is the last seq returned: pages stay stable while new rows are appended.
/// </summary>
public sealed class AuditReader(PostgresDataSources data)
{
    public const int DefaultLimit = 50;
    public const int MaxLimit = 200;

    private const string Sql = """
        SELECT seq, id, occurred_at, event, actor_user_id, actor_key_id, ip, request_id, details::text, prev_hash, hash
        FROM audit_log
        WHERE workspace_id = $1
          AND ($2::text IS NULL OR event = $2)
          AND ($3::uuid IS NULL OR actor_user_id = $3 OR actor_key_id = $3)
          AND ($4::timestamptz IS NULL OR occurred_at >= $4)
          AND ($5::timestamptz IS NULL OR occurred_at < $5)
          AND ($6::bigint IS NULL OR seq < $6)
        ORDER BY seq DESC
        LIMIT $7
        """;

    public async Task<AuditPage> ListAsync(Guid workspaceId, Guid? userId, AuditFilter filter, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(filter);
        await using var session = await TenantSession.OpenAsync(data.Pooled, workspaceId, userId, write: false, cancellationToken);
        await using var batch = session.CreateBatch(Sql, workspaceId, filter.Event, filter.Actor, filter.From, filter.To, filter.BeforeSeq, filter.Limit + 1);
        await using var reader = await session.ReadAsync(batch, cancellationToken);
        var items = new List<AuditEntry>();
        while (await reader.ReadAsync(cancellationToken))
        {
            items.Add(new AuditEntry(
                reader.GetInt64(0),
                reader.GetGuid(1),
                reader.GetFieldValue<DateTimeOffset>(2),
                reader.GetString(3),
                reader.IsDBNull(4) ? null : reader.GetGuid(4),
                reader.IsDBNull(5) ? null : reader.GetGuid(5),
                reader.IsDBNull(6) ? null : reader.GetString(6),
                reader.IsDBNull(7) ? null : reader.GetString(7),
                JsonNode.Parse(reader.GetString(8))!.AsObject(),
                Convert.ToHexStringLower(reader.GetFieldValue<byte[]>(9)),
                Convert.ToHexStringLower(reader.GetFieldValue<byte[]>(10))));
        }

        if (items.Count <= filter.Limit)
        {
            return new AuditPage(items, null);
        }

        items.RemoveAt(items.Count - 1);
        return new AuditPage(items, items[^1].Seq.ToString(CultureInfo.InvariantCulture));
    }

    /// <summary>Parses the query string's filters; every malformed value is a validation problem naming its field.</summary>
    public static AuditFilter ParseFilter(string? eventName, string? actor, string? from, string? to, string? limit, string? cursor)
    {
        var errors = new Dictionary<string, string[]>();
        if (eventName is not null && !AuditEvents.All.Contains(eventName))
        {
            errors["event"] = [$"Must be one of {string.Join(", ", AuditEvents.All)}."];
        }

        Guid? actorId = null;
        if (actor is not null)
        {
            actorId = Guid.TryParse(actor, out var id) ? id : Fail<Guid?>(errors, "actor", "Must be a user id or an API key id (a UUID).");
        }

        var fromTime = Time(errors, "from", from);
        var toTime = Time(errors, "to", to);
        var size = DefaultLimit;
        if (limit is not null && (!int.TryParse(limit, NumberStyles.None, CultureInfo.InvariantCulture, out size) || size < 1 || size > MaxLimit))
        {
            errors["limit"] = [$"Must be a whole number from 1 to {MaxLimit}."];
        }

        long? before = null;
        if (cursor is not null)
        {
            before = long.TryParse(cursor, NumberStyles.None, CultureInfo.InvariantCulture, out var seq) && seq > 0
                ? seq
                : Fail<long?>(errors, "cursor", "Must be a nextCursor value from a previous page.");
        }

        if (errors.Count > 0)
        {
            throw ProblemException.Validation(errors);
        }

        return new AuditFilter(eventName, actorId, fromTime, toTime, before, size);
    }

    private static DateTimeOffset? Time(Dictionary<string, string[]> errors, string field, string? value) =>
        value is null ? null
        : DateTimeOffset.TryParse(value, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var time) ? time
        : Fail<DateTimeOffset?>(errors, field, "Must be an ISO 8601 date-time, e.g. 2025-01-31T00:00:00Z.");

    private static T? Fail<T>(Dictionary<string, string[]> errors, string field, string message)
    {
        errors[field] = [message];
        return default;
    }
}
