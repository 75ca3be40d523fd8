using AgentCrm.Core.Audit;
using AgentCrm.Core.Platform.Data;
using AgentCrm.Functions.Tests.Infrastructure;
using Npgsql;

namespace AgentCrm.Functions.Tests.Audit;

/// <summary>Direct SQL for the audit tests: as the owner (sees every chain) or as the app's login.</summary>
internal static class AuditSql
{
    public static async Task ExecuteAsync(string connectionString, string sql, params object?[] args)
    {
        await using var connection = Unpooled(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection).Args(args);
        await command.ExecuteNonQueryAsync();
    }

    public static async Task<List<T>> QueryAsync<T>(string connectionString, string sql, Func<NpgsqlDataReader, T> map, params object?[] args)
    {
        await using var connection = Unpooled(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection).Args(args);
        await using var reader = await command.ExecuteReaderAsync();
        var rows = new List<T>();
        while (await reader.ReadAsync())
        {
            rows.Add(map(reader));
        }

        return rows;
    }

    // The owner cannot end the app login's idle pooled sessions when the test database is dropped.
    private static NpgsqlConnection Unpooled(string connectionString) =>
        new(new NpgsqlConnectionStringBuilder(connectionString) { Pooling = false }.ConnectionString);

    /// <summary>Appends through the real log, as the app does.</summary>
    public static Task AppendAsync(TestApp app, Guid? workspaceId, string name = AuditEvents.AdminAction, Guid? actor = null, string? note = null) =>
        app.Services.GetRequiredService<IAuditLog>().AppendAsync(
            new AuditEvent(workspaceId, name, actor, null, "127.0.0.1", "req-test", new System.Text.Json.Nodes.JsonObject { ["note"] = note ?? name }),
            CancellationToken.None);

    /// <summary>Appends with a chosen time (as the app's login), for retention tests.</summary>
    public static Task AppendAtAsync(TestDatabase db, Guid workspaceId, DateTimeOffset occurredAt, string note) =>
        ExecuteAsync(db.AppConnectionString,
            "SELECT app.audit_append($1, gen_random_uuid(), $2, 'admin.action', NULL, NULL, NULL, NULL, jsonb_build_object('note', $3::text))",
            workspaceId, occurredAt, note);
}
