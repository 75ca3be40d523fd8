using AgentCrm.Functions.Tests.Infrastructure;

namespace AgentCrm.Functions.Tests.Processes;

public class CliVerbTests
{
    [Fact]
    public async Task Migrate_applies_then_finds_nothing_to_do_and_status_reports_current()
    {
        await using var db = await TestDatabase.CreateAsync();
        var env = new Dictionary<string, string?> { ["Postgres__Pooled"] = db.ConnectionString };

        var (firstExit, first) = await Run(env, "migrate");
        var (secondExit, second) = await Run(env, "migrate");
        var (statusExit, status) = await Run(env, "migrate", "--status");

        Assert.Equal(0, firstExit);
        Assert.Contains("Applied 0001_maintenance", first, StringComparison.Ordinal);
        Assert.Equal(0, secondExit);
        Assert.Contains("Nothing to apply", second, StringComparison.Ordinal);
        Assert.Equal(0, statusExit);
        Assert.Contains("Pending: none", status, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Migrate_without_a_connection_string_is_a_configuration_error()
    {
        var (exit, output) = await Run(new Dictionary<string, string?> { ["Postgres__Pooled"] = null }, "migrate");

        Assert.Equal(78, exit);
        Assert.Contains("Postgres:Pooled (env Postgres__Pooled): is missing", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Migrate_status_exits_3_while_migrations_are_pending()
    {
        await using var db = await TestDatabase.CreateAsync();

        var (exit, output) = await Run(new Dictionary<string, string?> { ["Postgres__Pooled"] = db.ConnectionString }, "migrate", "--status");

        Assert.Equal(3, exit);
        Assert.Contains("Pending: 0001_maintenance", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Help_and_usage_errors()
    {
        var (helpExit, help) = await Run([], "migrate", "--help");
        var (badOptionExit, badOption) = await Run([], "migrate", "--sideways");
        var (unknownExit, unknown) = await Run([], "frobnicate");
        var (overviewExit, overview) = await Run([], "--help");

        Assert.Equal(0, helpExit);
        Assert.Contains("Usage: AgentCrm.Functions migrate [--status]", help, StringComparison.Ordinal);
        Assert.Equal(2, badOptionExit);
        Assert.Contains("Unknown option \"--sideways\"", badOption, StringComparison.Ordinal);
        Assert.Equal(2, unknownExit);
        Assert.Contains("Unknown verb \"frobnicate\"", unknown, StringComparison.Ordinal);
        Assert.Equal(0, overviewExit);
        Assert.Contains("migrate", overview, StringComparison.Ordinal);
        Assert.Contains("functions-json", overview, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Functions_json_writes_one_folder_per_function()
    {
        var output = Directory.CreateTempSubdirectory("agentcrm-fn-");
        try
        {
            var (exit, _) = await Run([], "functions-json", "--output", output.FullName);

            Assert.Equal(0, exit);
            Assert.True(File.Exists(Path.Combine(output.FullName, "Api", "function.json")));
            Assert.True(File.Exists(Path.Combine(output.FullName, "Maintenance", "function.json")));
        }
        finally
        {
            output.Delete(recursive: true);
        }
    }

    private static async Task<(int Exit, string Output)> Run(Dictionary<string, string?> env, params string[] args)
    {
        await using var process = AppProcess.Start(env, args: args);
        var exit = await process.WaitForExitAsync(TimeSpan.FromSeconds(60));
        return (exit, process.AllOutput);
    }
}
