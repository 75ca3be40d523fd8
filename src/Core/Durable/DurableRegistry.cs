using AgentCrm.Core.Durable.Api;
using AgentCrm.Core.Durable.Runtime;

namespace AgentCrm.Core.Durable;

/// <summary>
/// The orchestrators (by name and version) and activities this build can run. A worker leases only
/// instances whose name@version it knows, so two builds share one task hub during a slot swap.
/// </summary>
public sealed class DurableRegistry
{
    private readonly Dictionary<string, OrchestratorRegistration> _orchestrators = new(StringComparer.Ordinal);
    private readonly Dictionary<string, string> _defaultVersions = new(StringComparer.Ordinal);
    private readonly Dictionary<string, ActivityRegistration> _activities = new(StringComparer.Ordinal);

    public DurableRegistry(IEnumerable<DurableRegistration> registrations)
    {
        foreach (var registration in registrations)
        {
            registration.Register(this);
        }
    }

    public DurableRegistry() : this([]) { }

    public IReadOnlyCollection<string> OrchestratorKeys => _orchestrators.Keys;

    /// <summary>Adds an orchestrator; the version added last for a name is the one new instances get by default.</summary>
    public DurableRegistry AddOrchestrator<TInput, TOutput>(string name, Func<TaskOrchestrationContext, TInput?, Task<TOutput>> run, string version = "")
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        var registration = new OrchestratorRegistration(name, version,
            async context => DurableJson.Serialize(await run(context, context.GetInput<TInput>())));
        _orchestrators.Add(registration.Key, registration);
        _defaultVersions[name] = version;
        return this;
    }

    public DurableRegistry AddActivity<TInput, TOutput>(string name, Func<TaskActivityContext, TInput?, Task<TOutput>> run)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        _activities.Add(name, new ActivityRegistration(name,
            async (context, input) => DurableJson.Serialize(await run(context, DurableJson.Deserialize<TInput>(input)))));
        return this;
    }

    public OrchestratorRegistration? FindOrchestrator(string name, string version) =>
        _orchestrators.GetValueOrDefault(name + "@" + version);

    public ActivityRegistration? FindActivity(string name) => _activities.GetValueOrDefault(name);

    public bool HasActivities => _activities.Count > 0;

    public bool HasOrchestrator(string name) => _defaultVersions.ContainsKey(name);

    public string DefaultVersion(string name) => _defaultVersions.GetValueOrDefault(name, string.Empty);
}

/// <summary>One feature's contribution to the registry (registered in DI; features add their orchestrators and activities).</summary>
public sealed record DurableRegistration(Action<DurableRegistry> Register);
