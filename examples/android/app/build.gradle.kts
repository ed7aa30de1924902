plugins {
    id("com.android.application")
    id("org.jetbrains.kotlin.android")
}

android {
    namespace = "org.sotto.example"
    compileSdk = 34
    defaultConfig {
        applicationId = "org.sotto.example"
        minSdk = 26
        targetSdk = 34
        versionCode = 1
        versionName = "0.1"
        // The health authority's key-file server (export-bucket layout) and its public key.
        buildConfigField("String", "KEYS_URL", "\"https://keys.example.org/v1\"")
        buildConfigField("String", "HEALTH_AUTHORITY_ID", "\"org.example.health\"")
    }
    buildFeatures { buildConfig = true }
    compileOptions {
        sourceCompatibility = JavaVersion.VERSION_17
        targetCompatibility = JavaVersion.VERSION_17
    }
    kotlinOptions { jvmTarget = "17" }
}

dependencies {
    implementation(project(":sotto-android"))
    implementation("androidx.core:core-ktx:1.13.1")
    implementation("androidx.appcompat:appcompat:1.7.0")
    implementation("androidx.work:work-runtime-ktx:2.9.1")
}
