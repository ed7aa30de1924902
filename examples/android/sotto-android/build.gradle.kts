// The AAR: the org.sotto Java sources of bindings/java plus libsotto_jni.so and libsotto.so per
// ABI, cross-built with the NDK into src/main/jniLibs/<abi>/ first (docs/mobile.md).
plugins { id("com.android.library") }

android {
    namespace = "org.sotto"
    compileSdk = 34
    defaultConfig {
        minSdk = 26
        consumerProguardFiles("consumer-rules.pro")
    }
    sourceSets["main"].java.srcDir("../../../bindings/java/src/main/java")
    compileOptions {
        // Records in org.sotto: desugared by D8 for older devices.
        sourceCompatibility = JavaVersion.VERSION_17
        targetCompatibility = JavaVersion.VERSION_17
    }
}
