using Npgsql;
using NpgsqlTypes;

namespace AgentCrm.Core.Durable.Store;

/// <summary>
/// A management statement for one workspace: the batch's first statement takes on the agentcrm_tenant role
/// and sets <c>app.workspace_id</c> for its implicit transaction, so row-level security shows that
/// workspace's instances only (migration 0009), on top of the statement's own scope filter; its plans are
/// custom every time (filters are optional, and a generic plan for "any of them may be null" is a poor one).
/// Unscoped (null) the statement goes alone, as the engine's: no settings, every row.
/// </summary>
internal static class ScopedBatch
{
    public const string TenantRole = "agentcrm_tenant";

    public static NpgsqlBatch Create(NpgsqlDataSource db, string? scope, string sql, params object?[] values)
    {
        var batch = db.CreateBatch();
        if (scope is not null)
        {
            batch.BatchCommands.Add(Scope(scope));
        }

        var command = new NpgsqlBatchCommand(sql);
        foreach (var value in values)
        {
            command.Parameters.Add(Parameter(value));
        }

        batch.BatchCommands.Add(command);
        return batch;
    }

    /// <summary>The scoping statement alone, for a transaction of several (a rewind).</summary>
    public static NpgsqlBatchCommand Scope(string scope) => new(
        "SELECT set_config('role', $1, true), set_config('app.workspace_id', $2, true), set_config('plan_cache_mode', 'force_custom_plan', true)")
    {
        Parameters = { new NpgsqlParameter { Value = TenantRole }, new NpgsqlParameter { Value = scope } },
    };

    /// <summary>Runs it and positions the reader on the statement's rows (past the settings' row, when scoped).</summary>
    public static async Task<NpgsqlDataReader> ReadAsync(NpgsqlBatch batch, CancellationToken cancellationToken)
    {
        var reader = await batch.ExecuteReaderAsync(cancellationToken);
        if (batch.BatchCommands.Count > 1)
        {
            await reader.NextResultAsync(cancellationToken);
        }

        return reader;
    }

    /// <summary>Typed nulls: an optional filter's parameter must say its type even when it has no value.</summary>
    public static NpgsqlParameter Parameter(object? value) => value switch
    {
        TypedNull n => new NpgsqlParameter { Value = DBNull.Value, NpgsqlDbType = n.Type },
        null => new NpgsqlParameter { Value = DBNull.Value },
        _ => new NpgsqlParameter { Value = value },
    };
}

/// <summary>A null of a known PostgreSQL type.</summary>
internal sealed record TypedNull(NpgsqlDbType Type)
{
    public static readonly TypedNull Text = new(NpgsqlDbType.Text);
    public static readonly TypedNull TimestampTz = new(NpgsqlDbType.TimestampTz);
    public static readonly TypedNull SmallintArray = new(NpgsqlDbType.Array | NpgsqlDbType.Smallint);

    public static object Or(string? value) => (object?)value ?? Text;

    public static object Or(DateTime? value) => value is { } v ? DateTime.SpecifyKind(v, DateTimeKind.Utc) : TimestampTz;
}
