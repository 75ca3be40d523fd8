using AgentCrm.Core.Durable.Api;

namespace AgentCrm.Core.Durable.Runtime;

/// <summary>An orchestrator the worker can run: name, version and the code (input and output as JSON).</summary>
public sealed record OrchestratorRegistration(string Name, string Version, Func<TaskOrchestrationContext, Task<string?>> RunAsync)
{
    public string Key => Name + "@" + Version;
}

/// <summary>An activity the worker can run (input and output as JSON).</summary>
public sealed record ActivityRegistration(string Name, Func<TaskActivityContext, string?, Task<string?>> RunAsync);
