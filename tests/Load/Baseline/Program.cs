using Npgsql;

// Raw baselines for scripts/bench: no middleware, no logging, no problem details, so the app's
// figures can be read as a fraction of what Kestrel and Npgsql alone manage on the same machine.
//   --mode constant   GET /constant   a constant JSON body the size of /api/health/live's answer
//   --mode point      GET /point/{id} one point select on bench_contacts (Postgres__Pooled)
var builder = WebApplication.CreateSlimBuilder(args);
builder.Logging.ClearProviders();
var mode = builder.Configuration["mode"];

var app = builder.Build();
switch (mode)
{
    case "constant":
        var answer = new LiveAnswer("Healthy", 0.1, new Dictionary<string, string>());
        app.MapGet("/constant", () => answer);
        break;
    case "point":
        var dataSource = PointSelect.CreateDataSource(builder.Configuration["Postgres:Pooled"], builder.Configuration.GetValue("Postgres:MaxAutoPrepare", 0));
        app.MapGet("/point/{id:int}", (int id, CancellationToken cancel) => PointSelect.RunAsync(dataSource, id, cancel));
        break;
    default:
        await Console.Error.WriteLineAsync("usage: AgentCrm.Baseline --mode constant|point --urls http://127.0.0.1:PORT");
        return 2;
}

await app.RunAsync();
return 0;

internal sealed record LiveAnswer(string Status, double DurationMs, Dictionary<string, string> Checks);

internal sealed record Contact(int Id, string Name, string Email);

internal static class PointSelect
{
    public static NpgsqlDataSource CreateDataSource(string? connectionString, int maxAutoPrepare)
    {
        if (string.IsNullOrEmpty(connectionString))
        {
            throw new InvalidOperationException("Postgres__Pooled is not set (eval \"$(scripts/servers env)\")");
        }

        // Same pool as the app's pooled source (PgBouncer-safe, default Postgres:MaxPoolSize 50, and the same
        // Postgres:MaxAutoPrepare), so only the HTTP side differs when an app endpoint is compared with this.
        var csb = new NpgsqlConnectionStringBuilder(connectionString)
        {
            NoResetOnClose = true,
            MaxAutoPrepare = maxAutoPrepare,
            MaxPoolSize = 50,
            ApplicationName = "agentcrm-baseline",
        };
        return NpgsqlDataSource.Create(csb.ConnectionString);
    }

    public static async Task<IResult> RunAsync(NpgsqlDataSource dataSource, int id, CancellationToken cancel)
    {
        await using var command = dataSource.CreateCommand("SELECT id, name, email FROM bench_contacts WHERE id = $1");
        command.Parameters.Add(new NpgsqlParameter<int> { TypedValue = id });
        await using var reader = await command.ExecuteReaderAsync(cancel);
        return await reader.ReadAsync(cancel)
            ? Results.Json(new Contact(reader.GetInt32(0), reader.GetString(1), reader.GetString(2)))
            : Results.NotFound();
    }
}
