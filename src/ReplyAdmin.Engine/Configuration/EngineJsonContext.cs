using System.Runtime.CompilerServices;
using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;
using ReplyAdmin.Engine.Processing;

namespace ReplyAdmin.Engine.Configuration
{
    /// <summary>
    /// Compiled JSON metadata for the configuration file and the journal, for the native runner (NativeAOT), where
    /// System.Text.Json cannot build it by reflection (the generic property and enum converters have no native code).
    /// Under the JIT the reflection metadata stays: the generated code instantiates framework generics that ReadyToRun
    /// cannot precompile, and a configuration load would JIT-compile some 330 more methods.
    /// </summary>
    [JsonSourceGenerationOptions(UseStringEnumConverter = true)]
    [JsonSerializable(typeof(ReplyAdminConfiguration))]
    [JsonSerializable(typeof(ProcessingResult))]
    internal sealed partial class EngineJsonContext : JsonSerializerContext
    {
        /// <summary>Options with the resolver this runtime needs: <paramref name="options"/> as given under the JIT, compiled metadata without it.</summary>
        internal static JsonSerializerOptions ForThisRuntime(JsonSerializerOptions options)
        {
            if (!RuntimeFeature.IsDynamicCodeSupported)
                options.TypeInfoResolver = JsonTypeInfoResolver.Combine(Default, new DefaultJsonTypeInfoResolver());
            return options;
        }
    }
}
