using AgentCrm.Core.Platform.Data;
using AgentCrm.Functions.Tests.Infrastructure;
using Microsoft.Extensions.Logging.Abstractions;

namespace AgentCrm.Functions.Tests.Platform;

public class MigrationRunnerTests
{
    private static readonly Migration First = Migration.FromFile("0001_people.sql", "CREATE TABLE people (id int PRIMARY KEY);");
    private static readonly Migration Slow = Migration.FromFile("0002_slow.sql", "SELECT pg_sleep(0.3); CREATE TABLE slow_done (id int);");

    [Fact]
    public async Task Applies_every_embedded_migration_to_an_empty_database()
    {
        await using var db = await TestDatabase.CreateAsync();
        await using var sources = db.DataSources();

        var report = await Runner(sources, MigrationCatalog.Embedded).MigrateAsync(CancellationToken.None);

        Assert.Equal(0, report.AlreadyApplied);
        Assert.Equal(MigrationCatalog.Embedded.Migrations.Count, report.Applied.Count);
        Assert.Equal(MigrationCatalog.Embedded.LatestVersion, await db.ScalarAsync<int>("SELECT max(version) FROM schema_migrations"));
        Assert.True(await db.ScalarAsync<bool>("SELECT to_regclass('maintenance_jobs') IS NOT NULL"));
    }

    [Fact]
    public async Task A_second_run_is_a_no_op()
    {
        await using var db = await TestDatabase.CreateAsync(migrate: true);
        await using var sources = db.DataSources();
        var appliedAt = await db.ScalarAsync<DateTime>("SELECT max(applied_at) FROM schema_migrations");

        var report = await Runner(sources, MigrationCatalog.Embedded).MigrateAsync(CancellationToken.None);

        Assert.Empty(report.Applied);
        Assert.Equal(MigrationCatalog.Embedded.Migrations.Count, report.AlreadyApplied);
        Assert.Equal(appliedAt, await db.ScalarAsync<DateTime>("SELECT max(applied_at) FROM schema_migrations"));
    }

    [Fact]
    public async Task Concurrent_runs_take_turns_and_apply_each_migration_once()
    {
        await using var db = await TestDatabase.CreateAsync();
        await using var sources = db.DataSources();
        var catalog = new MigrationCatalog([First, Slow]);

        var reports = await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => Task.Run(() => Runner(sources, catalog).MigrateAsync(CancellationToken.None))));

        Assert.Equal(2, reports.Sum(r => r.Applied.Count));
        Assert.Single(reports, r => r.Applied.Count == 2);
        Assert.Equal(2L, await db.ScalarAsync<long>("SELECT count(*) FROM schema_migrations"));
    }

    [Fact]
    public async Task An_applied_migration_that_was_edited_is_refused_with_a_clear_message()
    {
        await using var db = await TestDatabase.CreateAsync();
        await using var sources = db.DataSources();
        await Runner(sources, new MigrationCatalog([First])).MigrateAsync(CancellationToken.None);
        var edited = Migration.FromFile("0001_people.sql", "CREATE TABLE people (id bigint PRIMARY KEY);");

        var error = await Assert.ThrowsAsync<MigrationException>(() => Runner(sources, new MigrationCatalog([edited, Slow])).MigrateAsync(CancellationToken.None));

        Assert.Contains("0001_people.sql was changed after it was applied", error.Message, StringComparison.Ordinal);
        Assert.Contains("new migration", error.Message, StringComparison.Ordinal);
        Assert.False(await db.ScalarAsync<bool>("SELECT to_regclass('slow_done') IS NOT NULL")); // nothing after the refusal ran
        var state = await Runner(sources, new MigrationCatalog([edited])).InspectAsync(sources.Pooled, CancellationToken.None);
        Assert.Equal(["0001_people"], state.Edited);
    }

    [Fact]
    public async Task A_failing_migration_leaves_nothing_behind_and_names_the_file()
    {
        await using var db = await TestDatabase.CreateAsync();
        await using var sources = db.DataSources();
        var broken = Migration.FromFile("0002_broken.sql", "CREATE TABLE half_done (id int); SELECT * FROM no_such_table;");

        var error = await Assert.ThrowsAsync<MigrationException>(() => Runner(sources, new MigrationCatalog([First, broken])).MigrateAsync(CancellationToken.None));

        Assert.Contains("0002_broken.sql failed: 42P01", error.Message, StringComparison.Ordinal);
        Assert.False(await db.ScalarAsync<bool>("SELECT to_regclass('half_done') IS NOT NULL"));
        Assert.Equal(1L, await db.ScalarAsync<long>("SELECT count(*) FROM schema_migrations"));
    }

    [Fact]
    public async Task Migrations_a_newer_release_applied_are_tolerated()
    {
        await using var db = await TestDatabase.CreateAsync();
        await using var sources = db.DataSources();
        await Runner(sources, new MigrationCatalog([First, Slow])).MigrateAsync(CancellationToken.None);

        var report = await Runner(sources, new MigrationCatalog([First])).MigrateAsync(CancellationToken.None);
        var state = await Runner(sources, new MigrationCatalog([First])).InspectAsync(sources.Pooled, CancellationToken.None);

        Assert.Empty(report.Applied);
        Assert.True(state.IsCurrent);
        Assert.Equal(2, state.DatabaseVersion);
    }

    [Fact]
    public async Task Inspect_reports_pending_migrations_on_an_empty_database()
    {
        await using var db = await TestDatabase.CreateAsync();
        await using var sources = db.DataSources();

        var state = await Runner(sources, new MigrationCatalog([First, Slow])).InspectAsync(sources.Pooled, CancellationToken.None);

        Assert.False(state.IsCurrent);
        Assert.Equal(["0001_people", "0002_slow"], state.Pending);
        Assert.Equal(0, state.DatabaseVersion);
    }

    private static MigrationRunner Runner(PostgresDataSources sources, MigrationCatalog catalog) =>
        new(sources, catalog, NullLogger<MigrationRunner>.Instance);
}
