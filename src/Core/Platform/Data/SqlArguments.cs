using Npgsql;

namespace AgentCrm.Core.Platform.Data;

/// <summary>Positional arguments ($1, $2, ...) for a command or batch command; null becomes SQL NULL.</summary>
public static class SqlArguments
{
    public static NpgsqlBatchCommand Args(this NpgsqlBatchCommand command, params ReadOnlySpan<object?> values)
    {
        foreach (var value in values)
        {
            command.Parameters.Add(new NpgsqlParameter { Value = value ?? DBNull.Value });
        }

        return command;
    }

    public static NpgsqlCommand Args(this NpgsqlCommand command, params ReadOnlySpan<object?> values)
    {
        foreach (var value in values)
        {
            command.Parameters.Add(new NpgsqlParameter { Value = value ?? DBNull.Value });
        }

        return command;
    }

    /// <summary>Appends a statement to a batch and returns it, for <c>batch.Add(sql).Args(...)</c>.</summary>
    public static NpgsqlBatchCommand Add(this NpgsqlBatch batch, string sql)
    {
        var command = new NpgsqlBatchCommand(sql);
        batch.BatchCommands.Add(command);
        return command;
    }
}
